"""`leadpulse user add` and `leadpulse user list`, run as a user does."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy.engine import Engine

from leadpulse.store import users as user_store
from tests.cli_runner import leadpulse


def user_add(db_url: str, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadpulse", "user", "add", *args, "--password-stdin"],
        input=f"{password}\n", capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "LEADPULSE_DATABASE_URL": db_url},
    )  # fmt: skip


def test_user_add_reads_the_password_from_stdin_and_lists_users(
    db_url: str, engine: Engine
) -> None:
    add = user_add(db_url, "Boss@Shop.Example", "--role", "admin", password="a good password")
    assert add.returncode == 0, add.stderr
    assert "user boss@shop.example (admin) added" in add.stdout
    with engine.connect() as conn:
        found = user_store.credentials(conn, "boss@shop.example")
    assert found is not None
    assert found[1].startswith("$argon2")
    listed = leadpulse(db_url, "user", "list")
    assert "boss@shop.example" in listed.stdout
    assert "admin" in listed.stdout


def test_user_add_errors_are_one_line(db_url: str, engine: Engine) -> None:
    for args, password, message in [
        (("x@shop.example", "--role", "boss"), "a good password", "error: no role 'boss'"),
        (("x@shop.example", "--role", "sales"), "short", "error: the password is too short"),
        (("x@shop.example", "--role", "sales", "--manager", "ghost"), "a good password",
         "error: no manager 'ghost'"),
    ]:  # fmt: skip
        bad = user_add(db_url, *args, password=password)
        assert bad.returncode == 1
        assert bad.stderr.startswith(message), bad.stderr
        assert "Traceback" not in bad.stderr
