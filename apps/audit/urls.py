from django.urls import path

from .apis import AuditEventListApi

urlpatterns = [
    path("audit/events", AuditEventListApi.as_view(), name="audit-events"),
]
