from django.urls import path

from .apis import AuditEventCsvApi, AuditEventListApi

urlpatterns = [
    path("audit/events", AuditEventListApi.as_view(), name="audit-events"),
    path("audit/events.csv", AuditEventCsvApi.as_view(), name="audit-events-csv"),
]
