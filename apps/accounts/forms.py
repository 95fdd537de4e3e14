"""Core's session logins (the admin, the browsable API): Django's forms, limited and audited like web's login."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from apps.common.client_address import client_address
from apps.common.errors import LoginRateLimited

from .services import login_attempt_record, login_failure_reason, login_throttle_check


class LimitedLoginMixin:
    """Refuses an attempt at its account's or address's limit before the password is checked (`rate_limited`
    is then set: the view answers 429), and audits every attempt, counting failures."""

    via = ""
    rate_limited: LoginRateLimited | None = None

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # a required field is missing: no attempt was made
        client_ip = client_address(self.request) if self.request is not None else ""
        try:
            login_throttle_check(username=username, client_ip=client_ip, via=self.via)
        except LoginRateLimited as exc:
            self.rate_limited = exc
            raise forms.ValidationError(exc.message, code="rate_limited") from None
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            reason = login_failure_reason(username=username, authenticated=self.user_cache)
            login_attempt_record(username=username, client_ip=client_ip, user=self.user_cache, reason=reason,
                                 via=self.via)
            raise
        login_attempt_record(username=username, client_ip=client_ip, user=self.user_cache, reason="", via=self.via)
        return cleaned


class LimitedAdminLoginForm(LimitedLoginMixin, AdminAuthenticationForm):
    via = "admin"


class LimitedApiLoginForm(LimitedLoginMixin, AuthenticationForm):
    via = "api-auth"
