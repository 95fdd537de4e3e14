"""Core's session login pages, limited and audited (apps/accounts/forms.py); a refused attempt is a 429 page."""

from django.contrib import admin
from django.contrib.auth.views import LoginView

from .forms import LimitedApiLoginForm


def _limited(response):
    form = (getattr(response, "context_data", None) or {}).get("form")
    refused = getattr(form, "rate_limited", None)
    if refused is not None:
        response.status_code = 429
        response["Retry-After"] = str(refused.retry_after)
    return response


def admin_login(request, extra_context=None):
    """The admin's own login view (its context, redirects and staff check), with the limited form."""
    return _limited(admin.site.login(request, extra_context))


_api_login = LoginView.as_view(template_name="rest_framework/login.html", authentication_form=LimitedApiLoginForm)


def api_auth_login(request):
    """The browsable API's login (what rest_framework.urls mounts), with the limited form."""
    return _limited(_api_login(request))
