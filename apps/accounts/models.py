from django.db import models


class RevokedToken(models.Model):
    """A token (by its `jti` claim) that must no longer be accepted: a logged-out or rotated refresh token.

    Rows are only needed until the token would have expired anyway; `revoked_tokens_purge` removes the rest.
    """

    class Reason(models.TextChoices):
        LOGOUT = "logout"
        ROTATED = "rotated"
        ADMIN = "admin"

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField()
    # Copied, not a foreign key (like the audit trail's ids): the row is about a token, not the user's lifetime.
    user_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)

    class Meta:
        ordering = ["-revoked_at"]

    def __str__(self):
        return f"{self.jti} ({self.reason or 'revoked'})"
