from django.apps import AppConfig


class BotGatewayConfig(AppConfig):
    name = "apps.botgateway"
    label = "botgateway"
    verbose_name = "Telegram bot"
