from django.db import models


class _Revocation(models.Model):
    """When a revocation was made and until when it matters: after `expires_at` what it revoked can no longer be
    presented anyway, and `revoked_tokens_purge` removes the row."""

    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField()
    # Copied, not a foreign key (like the audit trail's ids): the row is about a token, not the user's lifetime.
    user_id = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True
        ordering = ["-revoked_at"]


class RevokedToken(_Revocation):
    """A token (by its `jti` claim) that must no longer be accepted: a logged-out or rotated refresh token.

    Rows are only needed until the token would have expired anyway; `revoked_tokens_purge` removes the rest.
    """

    class Reason(models.TextChoices):
        LOGOUT = "logout"
        ROTATED = "rotated"
        ADMIN = "admin"

    jti = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)

    def __str__(self):
        return f"{self.jti} ({self.reason or 'revoked'})"


class RevokedTokenFamily(_Revocation):
    """A login session (the `sid` claim every token of it carries: its first refresh token's jti) whose tokens
    must no longer be accepted, all of them: a refresh token of it was presented again after it had been rotated
    away (OAuth 2.0 Security BCP: refresh token reuse detection), so someone else may hold it.

    Rows are only needed until every token of the session would have expired (`expires_at`).
    """

    class Reason(models.TextChoices):
        REUSED = "reused"
        ADMIN = "admin"

    family = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)

    def __str__(self):
        return f"session {self.family} ({self.reason})"
