"""The JWT keys of the web role, read by config/settings/web.py (no Django models here: settings import it).

Asymmetric signing: the private key signs (login, refresh) and only instances that issue tokens need it; the
public key verifies, and may be handed to any instance or service that must accept the tokens. In production
both come from the environment (PEM text, or a file path for mounted secrets); in development a key pair is
generated once under DATA_DIR, like the development SECRET_KEY, so restarts and workers share it.
"""

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured

ALGORITHMS = ("EdDSA", "RS256")
DEV_KEY_FILE = "jwt_{algorithm}_private_key.pem"


@dataclass(frozen=True)
class JwtKeys:
    algorithm: str
    private_pem: str | None  # None: this instance verifies tokens but cannot issue them
    public_pem: str


def _unescape(pem: str) -> str:
    """PEM from an environment variable, where newlines are often written as a literal backslash-n."""
    return pem.replace("\\n", "\n").strip() + "\n" if pem.strip() else ""


def _read(value: str, path: str, name: str) -> str:
    if value and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read: {exc}") from None
    return _unescape(value)


def generate_private_pem(algorithm: str) -> str:
    if algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _load_private(pem: str, algorithm: str):
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"JWT_PRIVATE_KEY is not an unencrypted PEM private key: {exc}") from None
    _check_type(key, algorithm, "JWT_PRIVATE_KEY", private=True)
    return key


def _load_public(pem: str, algorithm: str):
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"JWT_PUBLIC_KEY is not a PEM public key: {exc}") from None
    _check_type(key, algorithm, "JWT_PUBLIC_KEY", private=False)
    return key


def _check_type(key, algorithm: str, name: str, *, private: bool) -> None:
    if algorithm == "EdDSA":
        wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
        ok = isinstance(key, wanted)
    else:
        wanted = rsa.RSAPrivateKey if private else rsa.RSAPublicKey
        ok = isinstance(key, wanted) and key.key_size >= 2048
    if not ok:
        raise ImproperlyConfigured(f"{name} does not fit JWT_ALGORITHM={algorithm} "
                                   f"({'an Ed25519 key' if algorithm == 'EdDSA' else 'an RSA key of 2048+ bits'})")


def _public_pem_of(private_key) -> str:
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def development_private_pem(data_dir: Path, algorithm: str) -> str:
    """A private key generated once under `data_dir`. Concurrent first starts (gunicorn workers) agree on one:
    each writes a complete file aside and links it into place; the loser reads the winner's."""
    path = data_dir / DEV_KEY_FILE.format(algorithm=algorithm.lower())
    if path.exists():
        return path.read_text()
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=data_dir, prefix=".jwt-key-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generate_private_pem(algorithm))
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text()


def load_jwt_keys(*, algorithm: str, private_pem: str = "", private_file: str = "", public_pem: str = "",
                  public_file: str = "", production: bool, data_dir: Path) -> JwtKeys:
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(f"JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    private_text = _read(private_pem, private_file, "JWT_PRIVATE_KEY")
    public_text = _read(public_pem, public_file, "JWT_PUBLIC_KEY")
    if not private_text and not public_text:
        if production:
            raise ImproperlyConfigured("JWT_PUBLIC_KEY (to verify tokens) is required when APP_ENV=production, and "
                                       "JWT_PRIVATE_KEY too on instances that issue them (see README: Web API)")
        private_text = development_private_pem(data_dir, algorithm)
    private_key = _load_private(private_text, algorithm) if private_text else None
    derived = _public_pem_of(private_key) if private_key is not None else None
    if public_text:
        public_key = _load_public(public_text, algorithm)
        normalized = _public_pem_of_public(public_key)
        if derived is not None and derived != normalized:
            raise ImproperlyConfigured("JWT_PUBLIC_KEY is not the public half of JWT_PRIVATE_KEY")
        public = normalized
    else:
        public = derived
    return JwtKeys(algorithm=algorithm, private_pem=private_text or None, public_pem=public)


def _public_pem_of_public(public_key) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
