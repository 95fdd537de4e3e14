"""Web's copies of core's catalogues (apps/dashboard/choices.py: web cannot import core's models) name exactly the
values core's models accept, in core's order."""

from apps.audit.models import AuditEvent
from apps.dashboard import choices
from apps.groups.models import Membership
from apps.moderation.models import ModerationAction


def test_web_offers_core_catalogues():
    assert Membership.Status.values == choices.MEMBER_STATUSES
    assert AuditEvent.Result.values == choices.AUDIT_RESULTS
    assert ModerationAction.Type.values == choices.MODERATION_TYPES
    assert ModerationAction.Status.values == choices.MODERATION_STATUSES
