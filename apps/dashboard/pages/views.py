"""The dashboard's pages: read the query or the form, call a service (which asks core), render. Query
parameters are validated by the same serializers as the JSON API; the rules are core's. Signing in and out, the
overview and the error pages here; the rest by area (groups, users, roles, audit)."""

import logging

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.common.client_address import client_address
from apps.common.errors import DomainError, LoginRateLimited, json_not_found
from apps.coreclient import CoreError, CoreUnavailable
from apps.dashboard import services
from apps.dashboard.errors import InvalidCredentials, TokenRejected

from . import forms
from .auth import LoginRequired, clear_token_cookies, cookie_user, dashboard_page, safe_next, set_token_cookies
from .common import chart, optional, render_page
from .errors import PAGE_ERRORS, describe

logger = logging.getLogger(__name__)

FEED_SIZE = 10
STAT_CARDS = [("groups", "Groups"), ("users", "Users"), ("moderation_actions_24h", "Moderation actions (24 h)"),
              ("manual_actions_24h", "By moderators (24 h)"), ("automated_actions_24h", "Automated (24 h)"),
              ("reports_24h", "Reports by members (24 h)"),
              ("denials_24h", "Permission denials (24 h)"), ("messages_24h", "Messages (24 h)")]
RECENT_ACTIONS = 10


# -- signing in and out


@require_http_methods(["GET", "POST"])
def login(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET":
        try:
            _, pair = cookie_user(request)
        except (LoginRequired, *PAGE_ERRORS):  # no usable session (or core cannot say): show the form
            return render(request, "dashboard/login.html", {"form": forms.LoginForm(), "next": next_url,
                                                            "logged_out": "logged_out" in request.GET})
        response = redirect(next_url)  # already signed in
        if pair is not None:
            set_token_cookies(response, pair)
        return response
    form = forms.LoginForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            pair = services.login(username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                                  client_ip=client_address(request))
        except (InvalidCredentials, LoginRateLimited) as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        except PAGE_ERRORS as exc:
            status, title, message, _ = describe(exc)
            form.add_error(None, f"{title}: {message}" if title != message else message)
        else:
            response = redirect(next_url)
            set_token_cookies(response, pair)
            return response
    else:
        status = 400
    return render(request, "dashboard/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout(request):
    refresh = request.COOKIES.get(settings.DASHBOARD_REFRESH_COOKIE)
    response = redirect("/login?logged_out=1")
    if refresh:
        try:
            services.logout(refresh_token=refresh)
        except TokenRejected:
            pass  # already expired or revoked: nothing left to revoke
        except (CoreUnavailable, CoreError, DomainError) as exc:
            logger.warning("logout could not revoke the refresh token", extra={"error": str(exc)})
            response = render(request, "dashboard/error.html", {
                "title": "Signed out of this browser only", "status": 503, "core_down": True,
                "message": "Your cookies are cleared, but core could not be told to revoke the session; it stays "
                           "usable elsewhere until it expires."}, status=503)
    clear_token_cookies(response)
    return response


def not_found(request, exception=None):
    """Web's 404: the JSON envelope under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return render(request, "dashboard/error.html", {
        "title": "Not found", "status": 404, "message": f"There is no page at {request.path}."}, status=404)


def csrf_failure(request, reason=""):
    return render(request, "dashboard/error.html", {
        "title": "Form expired or forged", "status": 403,
        "message": "This form could not be verified (CSRF check failed). Reload the page and submit it again."},
        status=403)


# -- overview


@dashboard_page
@require_safe
def overview(request):
    user = request.dashboard_user
    stats, stats_denied = optional(services.stats_overview, user)
    timeline, _ = optional(services.stats_timeline, user) if stats is not None else (None, None)
    feed, feed_denied = optional(services.audit_list, user, limit=FEED_SIZE, hide_checks_by=settings.SERVICE_NAME)
    actions, actions_denied = optional(services.moderation_list, user, limit=RECENT_ACTIONS)
    cards = [{"key": key, "label": label, "value": stats.get(key, 0)} for key, label in STAT_CARDS] if stats else []
    return render_page(request, "overview.html", {
        "cards": cards, "stats_denied": stats_denied, "generated_at": stats and stats["generated_at"],
        "chart": chart(timeline["points"]) if timeline else None, "chart_groups": timeline and timeline["groups"],
        "chart_points": timeline["points"] if timeline else [],
        "feed": feed["items"] if feed else None, "feed_denied": feed_denied,
        "actions": actions["items"] if actions else None, "actions_denied": actions_denied,
    }, nav="overview")
