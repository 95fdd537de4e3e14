from django.urls import path

from .apis import EventBatchApi

urlpatterns = [
    path("events/batch", EventBatchApi.as_view(), name="events-batch"),
]
