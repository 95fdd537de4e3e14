from django.apps import AppConfig


class CorePagesConfig(AppConfig):
    """Core's HTML pages: the landing page, the API docs (or a login link), and the favicon in the admin's and
    the browsable API's templates. Listed before django.contrib.admin and rest_framework so its templates
    extend theirs."""

    name = "apps.corepages"
    label = "corepages"
