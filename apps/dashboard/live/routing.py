from django.urls import re_path

from .consumers import LiveConsumer, NoRouteConsumer

websocket_urlpatterns = [
    re_path(r"^ws/live/?$", LiveConsumer.as_asgi()),
    re_path(r"", NoRouteConsumer.as_asgi()),
]
