from .models import RevokedToken, RevokedTokenFamily


def revoked_token_get(*, jti: str) -> RevokedToken | None:
    return RevokedToken.objects.filter(jti=jti).first()


def revoked_family_get(*, family: str) -> RevokedTokenFamily | None:
    return RevokedTokenFamily.objects.filter(family=family).first()
