"""Page sign-in: the JWT pair in HttpOnly cookies. An expired access token is renewed with the refresh cookie
(services.refresh rotates it); no usable token means a redirect to the login page."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from apps.dashboard import services
from apps.dashboard.errors import TokenRejected
from apps.dashboard.tokens import DashboardUser, access_token_user

from .errors import PAGE_ERRORS, error_page

LOGIN_URL = "/login"


class LoginRequired(Exception):
    pass


def set_token_cookies(response, pair: dict) -> None:
    lifetimes = {settings.DASHBOARD_ACCESS_COOKIE: ("access", "ACCESS_TOKEN_LIFETIME"),
                 settings.DASHBOARD_REFRESH_COOKIE: ("refresh", "REFRESH_TOKEN_LIFETIME")}
    for name, (key, lifetime) in lifetimes.items():
        response.set_cookie(name, pair[key], max_age=int(settings.SIMPLE_JWT[lifetime].total_seconds()), path="/",
                            secure=settings.DASHBOARD_COOKIE_SECURE, httponly=True, samesite="Lax")


def clear_token_cookies(response) -> None:
    for name in (settings.DASHBOARD_ACCESS_COOKIE, settings.DASHBOARD_REFRESH_COOKIE):
        response.delete_cookie(name, path="/", samesite="Lax")


def cookie_user(request) -> tuple[DashboardUser, dict | None]:
    """The signed-in user and, when the access token had to be renewed, the new pair to set."""
    access = request.COOKIES.get(settings.DASHBOARD_ACCESS_COOKIE)
    if access:
        try:
            return access_token_user(access), None
        except TokenRejected:  # expired (or otherwise unusable): try the refresh token
            pass
    refresh = request.COOKIES.get(settings.DASHBOARD_REFRESH_COOKIE)
    if not refresh:
        raise LoginRequired()
    try:
        pair = services.refresh(refresh_token=refresh)
    except TokenRejected:  # expired, revoked (logged out, or already rotated by another tab), user deactivated
        raise LoginRequired() from None
    return access_token_user(pair["access"]), pair


def safe_next(request, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return "/"


def login_redirect(request):
    response = redirect(f"{LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
    clear_token_cookies(response)
    return response


def dashboard_page(view):
    """Signs the request in from its cookies (request.dashboard_user) and turns the errors a page may meet into
    pages: core down 503, forbidden 403, bad query 400, not found 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            user, pair = cookie_user(request)
        except LoginRequired:
            return login_redirect(request)
        except PAGE_ERRORS as exc:
            return error_page(request, exc)
        request.dashboard_user = user
        try:
            response = view(request, *args, **kwargs)
        except PAGE_ERRORS as exc:
            response = error_page(request, exc)
        if pair is not None:
            set_token_cookies(response, pair)
        return response

    return wrapper
