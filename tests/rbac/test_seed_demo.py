import io
import re

from django.core.management import call_command

from apps.audit.selectors import audit_chain_verify
from apps.users.models import User


def test_seed_demo_is_idempotent_and_prints_a_generated_password_once(db):
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    password = re.search(r"admin / (\S+)", first.getvalue()).group(1)
    assert len(password) >= 12
    assert User.objects.get(username="admin").check_password(password)
    assert "admin /" not in second.getvalue()
    assert User.objects.filter(username="admin").count() == 1
    assert audit_chain_verify().intact

