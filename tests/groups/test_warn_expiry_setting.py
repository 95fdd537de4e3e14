"""The group's warn_expiry_seconds: in the group shape, editable through the group PATCH (versioned, audited),
bounded, null to turn it off."""

import pytest

from apps.audit.models import AuditEvent
from apps.groups.models import Group
from tests.common.assertions import assert_error, nothing_written
from tests.factories import make_group


@pytest.fixture
def group(db):
    return make_group()


def test_the_group_shape_shows_it_null_by_default(api, group):
    data = api.get(f"/api/groups/{group.pk}").json()["data"]
    assert data["warn_expiry_seconds"] is None


def test_the_patch_sets_and_clears_it_and_bumps_the_settings_version(api, group):
    before = Group.objects.get(pk=group.pk).settings_version
    response = api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": 7 * 86400})
    assert response.status_code == 200 and response.json()["data"]["warn_expiry_seconds"] == 7 * 86400
    fresh = Group.objects.get(pk=group.pk)
    assert fresh.warn_expiry_seconds == 7 * 86400 and fresh.settings_version == before + 1
    changed = AuditEvent.objects.filter(action="group.update").latest("created_at").details["changed"]
    assert changed == {"warn_expiry_seconds": [None, 7 * 86400]}
    cleared = api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": None}).json()["data"]
    assert cleared["warn_expiry_seconds"] is None


@pytest.mark.parametrize("value", [0, 29, 366 * 86400 + 1, -5, "1h", 1.5, True])
def test_out_of_range_or_wrong_types_are_400(api, group, value):
    with nothing_written():
        assert_error(api.patch(f"/api/groups/{group.pk}", {"warn_expiry_seconds": value}), 400, "validation_error",
                     "warn_expiry_seconds")
