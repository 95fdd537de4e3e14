"""The audit trail and moderation pages, and the audit CSV streamed from core."""

from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.views.decorators.http import require_safe

from apps.coreclient import CoreUnavailable
from apps.dashboard import apis, services
from apps.dashboard.choices import AUDIT_RESULTS, MODERATION_STATUSES

from . import forms
from .auth import dashboard_page
from .common import choice_filter, pager, query_filters, render_page, url_with

# The audit views leave out web's own permission checks (one for each page it reads for someone) unless asked.
DASHBOARD_READS = "dashboard_reads"


def _dashboard_reads(request) -> bool:
    return request.GET.get(DASHBOARD_READS, "") not in ("", "0")


@dashboard_page
@require_safe
def audit(request):
    user = request.dashboard_user
    filters = query_filters(apis.AuditListApi.FilterSerializer, request, drop={"verify", DASHBOARD_READS})
    dashboard_reads = _dashboard_reads(request)
    if not dashboard_reads:
        filters["hide_checks_by"] = settings.SERVICE_NAME
    page = services.audit_list(user, **filters)
    verification, verification_error = None, None
    if request.GET.get("verify"):
        try:
            verification = services.audit_verify(user)
        except CoreUnavailable:  # a long chain can take core longer than web waits; the log itself is still shown
            verification_error = "Core did not finish checking the chain in time; try again later or run " \
                                 "manage.py audit_verify on core."
    csv_params = {key: value for key, value in request.GET.items()
                  if value and (key in apis.AuditFilterSerializer().fields or key == DASHBOARD_READS)}
    return render_page(request, "audit.html", {
        "events": page["items"], "filter_form": forms.AuditFilterForm(request.GET, auto_id="filter_%s"),
        "next_url": url_with(request, cursor=page["next_cursor"]) if page["next_cursor"] else None,
        "first_url": url_with(request, cursor=None) if "cursor" in request.GET else None,
        "csv_url": f"/audit.csv?{urlencode(csv_params)}" if csv_params else "/audit.csv",
        "verify_url": url_with(request, verify=1), "verification": verification, "dashboard_reads": dashboard_reads,
        "dashboard_reads_url": url_with(request, **{DASHBOARD_READS: None if dashboard_reads else 1}),
        "verification_error": verification_error,
        "filters": [choice_filter(request, "result", "By result", [(value, value.capitalize())
                                                                    for value in AUDIT_RESULTS])],
    }, nav="audit")


async def _async_chunks(chunks):
    """Core's CSV chunks as an async iterator: under the ASGI server Django reads a synchronous one whole into
    memory before sending the first byte; this passes each chunk on as it arrives."""
    iterator = iter(chunks)
    done = object()
    try:
        while (chunk := await sync_to_async(next, thread_sensitive=False)(iterator, done)) is not done:
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=False)()


@dashboard_page
@require_safe
def audit_csv(request):
    filters = query_filters(apis.AuditFilterSerializer, request, drop={DASHBOARD_READS})
    if not _dashboard_reads(request):
        filters["hide_checks_by"] = settings.SERVICE_NAME
    chunks = services.audit_csv(request.dashboard_user, **filters)
    if isinstance(request, ASGIRequest):
        chunks = _async_chunks(chunks)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


@dashboard_page
@require_safe
def moderation(request):
    filters = query_filters(apis.ModerationListApi.FilterSerializer, request)
    page = services.moderation_list(request.dashboard_user, **filters)
    return render_page(request, "moderation.html", {
        "actions": page["items"], "pager": pager(request, page, "actions"),
        "filter_form": forms.ModerationFilterForm(request.GET, auto_id="filter_%s"),
        "filters": [choice_filter(request, "status", "By status", [(value, value.capitalize())
                                                                    for value in MODERATION_STATUSES]),
                    choice_filter(request, "automated", "By origin", [("false", "Moderators"),
                                                                      ("true", "Automated protection")])],
    }, nav="moderation")
