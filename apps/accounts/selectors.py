from .models import RevokedToken


def revoked_token_get(*, jti: str) -> RevokedToken | None:
    return RevokedToken.objects.filter(jti=jti).first()
