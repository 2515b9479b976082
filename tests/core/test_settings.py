"""Settings: environment, config file, clear errors, and every one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadpulse.core.errors import ConfigError
from leadpulse.core.settings import TABLE, Settings, load

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_defaults_match_the_table() -> None:
    defaults = Settings()
    for setting in TABLE:
        assert getattr(defaults, setting.name) == setting.default, setting.name
    assert {s.name for s in TABLE} == set(Settings.__dataclass_fields__)


def test_environment_and_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "leadpulse.toml"
    cfg.write_text('port = 9000\nhost = "0.0.0.0"\n')
    s = load(
        {
            "LEADPULSE_CONFIG": str(cfg),
            "LEADPULSE_PORT": "9100",
            "LEADPULSE_TRUST_PROXY_HEADERS": "yes",
        }
    )
    assert s.port == 9100  # the environment wins over the file
    assert s.host == "0.0.0.0"
    assert s.trust_proxy_headers is True


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEADPULSE_PORT"):
        load({"LEADPULSE_PORT": "eighty"})
    with pytest.raises(ConfigError, match="LEADPULSE_GC_THRESHOLD: expected a whole number of at"):
        load({"LEADPULSE_GC_THRESHOLD": "0"})  # 0 would turn the collector off
    cfg = tmp_path / "c.toml"
    cfg.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load({"LEADPULSE_CONFIG": str(cfg)})
    with pytest.raises(ConfigError, match="not found"):
        load({"LEADPULSE_CONFIG": str(tmp_path / "missing.toml")})


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`LEADPULSE_([A-Z_]+)`", text))
    missing = [s.name for s in TABLE if s.name.upper() not in documented]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"
