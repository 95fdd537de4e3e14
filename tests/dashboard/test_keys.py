"""JWT key handling of the web role (apps/dashboard/keys.py): env, files, generated development keys."""

import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from apps.dashboard.keys import generate_private_pem, load_jwt_keys


def public_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load(tmp_path, **kwargs):
    kwargs.setdefault("algorithm", "EdDSA")
    kwargs.setdefault("production", True)
    return load_jwt_keys(data_dir=tmp_path, **kwargs)


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_development_generates_one_private_key_and_keeps_it(tmp_path, algorithm):
    first = load(tmp_path, algorithm=algorithm, production=False)
    again = load(tmp_path, algorithm=algorithm, production=False)
    assert first.private_pem == again.private_pem and first.private_pem.startswith("-----BEGIN PRIVATE KEY")
    assert first.public_pem == public_of(first.private_pem)
    (path,) = tmp_path.glob("jwt_*_private_key.pem")
    assert path.stat().st_mode & 0o777 == 0o600


def test_concurrent_first_starts_agree_on_one_key(tmp_path):
    keys, barrier = [], threading.Barrier(6)

    def start():
        barrier.wait()
        keys.append(load(tmp_path, production=False).private_pem)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["jwt_eddsa_private_key.pem"]  # no leftovers


def test_production_requires_keys(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="JWT_PUBLIC_KEY"):
        load(tmp_path)
    assert list(tmp_path.iterdir()) == []  # never generates one in production


def test_private_key_alone_derives_the_public_key(tmp_path):
    private = generate_private_pem("EdDSA")
    keys = load(tmp_path, private_pem=private)
    assert keys.private_pem == private and keys.public_pem == public_of(private)


def test_public_key_alone_makes_a_verify_only_instance(tmp_path):
    public = public_of(generate_private_pem("EdDSA"))
    keys = load(tmp_path, public_pem=public)
    assert keys.private_pem is None and keys.public_pem == public


def test_mismatched_pair_is_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="not the public half"):
        load(tmp_path, private_pem=generate_private_pem("EdDSA"), public_pem=public_of(generate_private_pem("EdDSA")))


def test_escaped_newlines_and_files(tmp_path):
    private = generate_private_pem("EdDSA")
    assert load(tmp_path, private_pem=private.replace("\n", "\\n")).public_pem == public_of(private)
    key_file = tmp_path / "key.pem"
    key_file.write_text(private)
    assert load(tmp_path, private_file=str(key_file)).private_pem == private
    with pytest.raises(ImproperlyConfigured, match="not both"):
        load(tmp_path, private_pem=private, private_file=str(key_file))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        load(tmp_path, private_file=str(tmp_path / "missing.pem"))


def test_keys_must_fit_the_algorithm(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="JWT_ALGORITHM"):
        load(tmp_path, algorithm="HS256", private_pem=generate_private_pem("EdDSA"))
    with pytest.raises(ImproperlyConfigured, match="Ed25519"):
        load(tmp_path, private_pem=generate_private_pem("RS256"))
    with pytest.raises(ImproperlyConfigured, match="RSA key of 2048"):
        load(tmp_path, algorithm="RS256", private_pem=generate_private_pem("EdDSA"))
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(  # noqa: S505 (on purpose)
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(ImproperlyConfigured, match="2048"):
        load(tmp_path, algorithm="RS256", private_pem=weak)
    with pytest.raises(ImproperlyConfigured, match="not an unencrypted PEM private key"):
        load(tmp_path, private_pem="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----")
