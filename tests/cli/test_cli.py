"""The command line, run as a user runs it: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadpulse.store.engine import create_engine
from leadpulse.store.schema import lead_identities, leads
from tests.cli_runner import leadpulse as run
from tests.conftest import DATA

LEADS_CSV = DATA / "x-education" / "Leads.csv"


def test_site_add_prints_a_write_key_and_key_create_a_secret(db_url: str) -> None:
    site = run(db_url, "site", "add", "Window shop", "--domain", "shop.example")
    write_key = site.stdout.strip()
    assert write_key.startswith("lp_wk_")
    assert "window-shop" in site.stderr
    listed = run(db_url, "site", "list")
    assert "shop.example" in listed.stdout
    secret = run(db_url, "key", "create", "--name", "admin").stdout.strip()
    assert secret.startswith("lp_sk_")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT key_hash FROM api_keys")).scalar_one()
    engine.dispose()
    assert secret not in stored  # only the hash
    assert "revoked 1 key" in run(db_url, "key", "revoke", "admin").stdout
    again = run(db_url, "key", "revoke", "admin", ok=False)
    assert again.returncode == 1
    assert again.stderr.strip().startswith("error: no active key")


def test_errors_are_one_line_and_a_nonzero_exit(db_url: str, tmp_path: Path) -> None:
    missing = run(db_url, "import", str(tmp_path / "nope.csv"), ok=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: no such file: {tmp_path / 'nope.csv'}"
    bad_url = subprocess.run(
        [sys.executable, "-m", "leadpulse", "migrate"],
        env={**os.environ, "LEADPULSE_DATABASE_URL": "mysql://x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad_url.returncode == 1
    assert "Traceback" not in bad_url.stderr
    assert "unsupported database" in bad_url.stderr
    no_id = tmp_path / "x.csv"
    no_id.write_text("colour,size\nred,1\n")
    r = run(db_url, "import", str(no_id), ok=False)
    assert r.returncode == 1
    assert "no email, phone or id column" in r.stderr


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["site", "add"], ["key", "create"], ["import"], ["export"], ["migrate"]],
)
def test_help_on_every_command(command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "leadpulse", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout


def test_import_x_education_leads_twice_without_duplicates(db_url: str) -> None:
    first = run(db_url, "import", str(LEADS_CSV), "--id-column", "Prospect ID")
    assert "9240 leads created, 0 updated, 0 rows skipped" in first.stdout
    second = run(db_url, "import", str(LEADS_CSV), "--id-column", "Prospect ID")
    assert "0 leads created, 9240 updated" in second.stdout
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar() == 9240
        ids = conn.execute(
            sa.select(sa.func.count())
            .select_from(lead_identities)
            .where(lead_identities.c.kind == "external_id")
        ).scalar()
        assert ids == 9240
        row = conn.execute(
            sa.select(leads).where(leads.c.external_id == "7927b2df-8bba-4d29-b9a2-b6e0beafe620")
        ).one()
    engine.dispose()
    traits = row.traits
    assert traits["lead_source"] == "Olark Chat"
    assert traits["total_visits"] == 0
    assert "specialization" not in traits  # the literal `Select` means not answered
    assert traits["lead_number"] == 660737


def test_row_errors_are_reported_by_line_and_skipped(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_text(
        "Email,Name,Phone\n"
        "a@example.com,Ann,+48600123456\n"
        "b@example.com,Bob\n"  # too few cells
        ",Nobody,\n"  # no identity
        "c@example.com,Cid,\n",
        encoding="utf-8",
    )
    r = run(db_url, "import", str(f), "--source", "crm")
    assert "2 leads created, 0 updated, 2 rows skipped" in r.stdout
    assert "line 3: 2 cells where the header has 3" in r.stderr
    assert "line 4: no email, phone or id" in r.stderr


def test_export_writes_every_lead(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_text("email;company\nx@example.com;Acme\ny@example.com;Beta\n")
    run(db_url, "import", str(f), "--map", "company=company")
    out = tmp_path / "out.csv"
    run(db_url, "export", "-o", str(out))
    lines = out.read_text().splitlines()
    assert len(lines) == 3
    assert "x@example.com" in lines[1]
    jsonl = run(db_url, "export", "--format", "jsonl").stdout.splitlines()
    assert len(jsonl) == 2
