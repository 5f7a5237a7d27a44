"""Settings come from ``WORKLEDGER_*`` variables, and a wrong one is named with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.infrastructure.settings import Settings, SettingsError, variable


def test_each_setting_is_read_from_its_workledger_variable() -> None:
    settings = Settings.from_env(
        {
            "WORKLEDGER_PORT": "9000",
            "WORKLEDGER_DATA_DIR": "/srv/workledger",
            "WORKLEDGER_DATABASE_WAIT_SECONDS": "2.5",
            "PORT": "1",
        }
    )

    assert settings.port == 9000
    assert settings.data_dir == Path("/srv/workledger")
    assert settings.database_wait_seconds == 2.5


def test_an_empty_variable_leaves_its_setting_at_the_default() -> None:
    assert Settings.from_env({"WORKLEDGER_DATABASE_URL": ""}).database_url is None


def test_every_wrong_variable_is_named_with_the_reason() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"WORKLEDGER_PORT": "eighty", "WORKLEDGER_COMMIT_MAX_BATCH": "0"})

    message = str(raised.value)
    assert "WORKLEDGER_PORT: Input should be a valid integer" in message
    assert "WORKLEDGER_COMMIT_MAX_BATCH: Input should be greater than or equal to 1" in message


def test_settings_built_in_code_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKLEDGER_PORT", "9000")

    assert Settings().port == 8000
    assert Settings.from_env().port == 9000


def test_every_setting_says_what_it_is_for() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{variable(name)} has no description"
