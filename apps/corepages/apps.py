# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class CorePagesConfig(roles.CoreAppConfig):
    """Core's front door, the top of its layers: the landing page, the API docs (or a login link), the favicon in
    the admin's and the browsable API's templates, and the demo data of a first look (`manage.py seed_demo`, which
    writes through every other core app's services). Listed before django.contrib.admin and rest_framework so its
    templates extend theirs."""

    name = "apps.corepages"
    label = "corepages"
