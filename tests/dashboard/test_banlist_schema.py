"""Web's ban-list endpoints validate what they send core themselves (bodies and queries: web cannot import core's
serializers), so this holds those inputs to core's rules, as test_content_schema does for the content rules. Core's
answers need no such check: both roles declare them once (apps/common/banlist_shapes.py, test_shapes.py)."""

import pytest
from rest_framework import serializers

from apps.banlists import apis as core_lists
from apps.banlists import ban_apis as core_bans
from apps.dashboard import banlist_apis as web
from apps.dashboard import banlists as web_service


def _constraints(field) -> dict:
    return {"class": "regex" if isinstance(field, serializers.RegexField) else
            "choice" if isinstance(field, serializers.ChoiceField) else
            "int" if isinstance(field, serializers.IntegerField) else "text",
            "pattern": field.validators[-1].regex.pattern if isinstance(field, serializers.RegexField) else None,
            "min": getattr(field, "min_value", None), "max": getattr(field, "max_value", None),
            "max_length": getattr(field, "max_length", None), "allow_null": field.allow_null,
            "required": field.required,
            "choices": sorted(field.choices) if isinstance(field, serializers.ChoiceField) else None}


def _fields(serializer_class, *names) -> dict:
    fields = serializer_class().fields
    return {name: _constraints(fields[name]) for name in names}


@pytest.mark.parametrize(("web_serializer", "core_serializer", "names"), [
    (web.CreateSerializer, core_lists.BanListCreateSerializer, ("name",)),
    (web.UpdateSerializer, core_lists.BanListUpdateSerializer, ("name", "log_chat_id")),
    (web.BanInputSerializer, core_bans.BanWriteInput, ("telegram_user_id", "reason")),
    (web.ImportSerializer, core_bans.BanListImportApi.InputSerializer, ("format",)),
    (web.HistoryFilterSerializer, core_bans.BanListHistoryApi.FilterSerializer, ("kind", "telegram_user_id")),
    (web.BanFilterSerializer, core_bans.BanListBansApi.FilterSerializer, ("telegram_user_id",)),
    (web.UserBansQuerySerializer, core_bans.UserBansApi.FilterSerializer, ("telegram_user_id",)),
    (web.ExportQuerySerializer, core_bans.BanListExportApi.FilterSerializer, ("format",)),
])
def test_web_s_bodies_and_queries_declare_core_s_fields(web_serializer, core_serializer, names):
    assert _fields(web_serializer, *names) == _fields(core_serializer, *names)


def test_web_s_pages_are_within_core_s():
    """Web's page and limit are sent to core as they are: never past what core accepts."""
    assert _fields(web.ListFilterSerializer, "page", "limit") == _fields(core_lists.BanListFilterSerializer, "page",
                                                                           "limit")
    core_q = core_lists.BanListFilterSerializer().fields["q"]
    assert web.ListFilterSerializer().fields["q"].max_length == core_q.max_length


def test_the_import_s_limits_are_core_s():
    assert web.IMPORT_BODY_BYTES == core_bans.IMPORT_BODY_BYTES
    assert web.MAX_IMPORT_CHARS >= core_bans.MAX_CONTENT_BYTES
    assert sorted(web_service.IMPORT_FORMATS) == sorted(core_bans.FORMATS)
