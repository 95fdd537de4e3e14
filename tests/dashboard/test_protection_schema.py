"""Web's PATCH /api/groups/{id}/protection declares what core's PATCH enforces (web cannot import core's serializer,
so it declares the bounds and choices again: this holds the two together), and web offers core's catalogues."""

from rest_framework import serializers

from apps.dashboard import apis, choices
from apps.protection.apis import ProtectionPatchSerializer
from apps.protection.models import ProtectionSettings

ACTORS = {"actor_user_id", "actor_telegram_user_id"}


def _constraints(field) -> dict:
    return {"kind": "choice" if isinstance(field, serializers.ChoiceField) else
            "bool" if isinstance(field, serializers.BooleanField) else
            "int" if isinstance(field, serializers.IntegerField) else "text",
            "min": getattr(field, "min_value", None), "max": getattr(field, "max_value", None),
            "max_length": getattr(field, "max_length", None), "allow_null": field.allow_null,
            "choices": list(field.choices) if isinstance(field, serializers.ChoiceField) else None,
            "required": field.required}


def test_web_s_patch_body_is_core_s():
    core = {name: _constraints(field) for name, field in ProtectionPatchSerializer().fields.items()
            if name not in ACTORS}
    web = {name: _constraints(field) for name, field in apis.GroupProtectionApi.InputSerializer().fields.items()}
    assert web == core


def test_web_offers_core_s_protection_choices():
    assert ProtectionSettings.CaptchaMode.values == choices.CAPTCHA_MODES
    assert ProtectionSettings.CaptchaFailure.values == choices.CAPTCHA_FAILURE_ACTIONS
    assert ProtectionSettings.FloodAction.values == choices.FLOOD_ACTIONS
    assert ProtectionSettings.RaidAction.values == choices.RAID_ACTIONS
