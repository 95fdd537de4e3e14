# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class ChallengesConfig(roles.CoreAppConfig):
    name = "apps.challenges"
    label = "challenges"
    verbose_name = "Join verification (captcha)"
