from django.urls import path

from .apis import AuditEventCsvApi, AuditEventListApi
from .verify import AuditVerifyApi

urlpatterns = [
    path("audit/events", AuditEventListApi.as_view(), name="audit-events"),
    path("audit/events.csv", AuditEventCsvApi.as_view(), name="audit-events-csv"),
    path("audit/verify", AuditVerifyApi.as_view(), name="audit-verify"),
]
