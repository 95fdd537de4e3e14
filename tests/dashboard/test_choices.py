"""Web's copies of core's catalogues (apps/dashboard/choices.py: web cannot import core's models) name exactly the
values core's models accept, in core's order."""

from apps.audit.models import AuditEvent
from apps.dashboard import choices
from apps.groups.models import Membership
from apps.moderation.models import ModerationAction


def test_web_offers_core_catalogues():
    assert choices.MEMBER_STATUSES == Membership.Status.values
    assert choices.AUDIT_RESULTS == AuditEvent.Result.values
    assert choices.MODERATION_TYPES == ModerationAction.Type.values
    assert choices.MODERATION_STATUSES == ModerationAction.Status.values
