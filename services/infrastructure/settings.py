"""Settings, read once from the environment and validated on load.

``pydantic-settings`` reads and parses the ``WORKLEDGER_*`` variables; the model validates them.
Only ``Settings.from_env`` reads the environment: a ``Settings(...)`` built in code (as the tests
build theirs) holds exactly what it was given and the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "WORKLEDGER_"

DATABASE_WAIT_SECONDS = 1.0


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


class _Environment(EnvSettingsSource):
    """The ``WORKLEDGER_*`` variables of a given environment (the process's, or a test's)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # As the library reads ``os.environ``: names in lower case, empty values left out.
        return {
            name if self.case_sensitive else name.lower(): value
            for name, value in self._environ.items()
            if not (self.env_ignore_empty and value == "")
        }


class Settings(BaseSettings):
    """Every knob of workledger; each is read from ``WORKLEDGER_<NAME>``."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix=ENV_PREFIX, env_ignore_empty=True
    )

    data_dir: Path = Field(Path(".workledger"), description="Where the SQLite database lives.")
    database_url: str | None = Field(None, description="A PostgreSQL URL; overrides SQLite.")
    kafka_bootstrap_servers: str | None = Field(None, description="Turns the Kafka relay on.")
    kafka_topic: str = Field("workledger.events", description="The topic the relay publishes to.")
    kafka_topic_partitions: int = Field(
        6, ge=1, description="Partitions of the topic the relay creates."
    )
    kafka_topic_replication: int = Field(
        1, ge=1, description="Replication of the topic the relay creates (3 in production)."
    )
    event_stream_heartbeat_seconds: float = Field(
        15.0, gt=0, description="Keep-alive interval of /v1/events/stream."
    )
    host: str = Field(
        "127.0.0.1",
        description="The address `serve` and `api` listen on, and the metrics port of `worker`, "
        "`relay` and `scheduler`.",
    )
    port: int = Field(8000, ge=0, le=65535, description="The port `serve` and `api` listen on.")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest request body accepted.")
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="How long a request body may take to arrive (for an import's stream: the "
        "longest wait for its next part) before the answer is 408 and the connection closes.",
    )
    commit_max_batch: int = Field(512, ge=1, description="Most commands in one transaction.")
    command_retries: int = Field(5, ge=1, description="Attempts for a command that conflicts.")
    scheduler_horizon_days: int = Field(
        14, ge=0, description="How far ahead operation occurrences are created."
    )
    scheduler_interval_seconds: float = Field(
        60.0, gt=0, description="How often the scheduler ticks."
    )
    db_pool_size: int = Field(
        8, ge=1, description="PostgreSQL connections per process (and as many again on demand)."
    )
    database_wait_seconds: float = Field(
        DATABASE_WAIT_SECONDS,
        gt=0,
        description="How long a request waits for the database (a connection, an answer, its "
        "command's turn) before answering 503.",
    )
    import_max_lines: int = Field(
        100_000,
        ge=1,
        description="Most lines one POST /v1/import takes; the answer says where to go on.",
    )
    workers: int = Field(1, ge=1, le=64, description="API processes sharing the port.")
    ready_max_lag_seconds: float = Field(
        30.0,
        gt=0,
        description="How far behind the log a view may be (the age of the oldest event it has "
        "not applied) before /readyz answers 503.",
    )
    ready_max_relay_lag_seconds: float = Field(
        60.0,
        gt=0,
        description="With Kafka configured, how far behind the log the relay may be (the age of "
        "the oldest event it has not published) before /readyz answers 503.",
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`json`: one JSON object a line; `text`: plain lines for a terminal."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="The least level logged (`debug` adds every query and catch-up page)."
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="When set, /metrics (and the metrics port) answer only "
        "`Authorization: Bearer` with this value.",
    )
    metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="The port on which `worker`, `relay` and `scheduler` serve /metrics (0: none).",
    )
    token_check_seconds: float = Field(
        1.0,
        ge=0,
        le=60,
        description="How long an API process trusts a token it has looked up. Revoking a token "
        "waits this long before it answers, so a revoked token is then refused by every process "
        "(0: look the token up on every request).",
    )
    rate_limit_commands_per_second: float = Field(
        0.0,
        ge=0,
        description="Commands a token may send a second, on average, to one API process "
        "(0: no limit). With N API processes a token may send N times as many.",
    )
    rate_limit_commands_burst: int = Field(
        0,
        ge=0,
        description="Commands a token may send at once before its rate applies (0: one "
        "second's worth).",
    )
    rate_limit_queries_per_second: float = Field(
        0.0,
        ge=0,
        description="Queries a token may send a second, on average, to one API process "
        "(0: no limit); counted apart from its commands.",
    )
    rate_limit_queries_burst: int = Field(
        0,
        ge=0,
        description="Queries a token may send at once before its rate applies (0: one "
        "second's worth).",
    )

    flow_window_days: int = Field(
        90, ge=1, le=3660, description="Days of finished work cycle and lead time are taken over."
    )
    flow_throughput_weeks: int = Field(
        12, ge=1, le=104, description="Whole weeks of throughput shown, and forecasts draw from."
    )
    insight_goal_lag: float = Field(
        0.2, ge=0, le=1, description="goal_at_risk: progress this far behind the period elapsed."
    )
    insight_slipping_warning: float = Field(
        0.7, ge=0, le=1, description="project_slipping: a warning below this chance of the target."
    )
    insight_slipping_critical: float = Field(
        0.4, ge=0, le=1, description="project_slipping: critical below this chance of the target."
    )
    insight_aging_days: float = Field(
        14.0, gt=0, description="aging_work: days in progress (warning) with too few samples."
    )
    insight_aging_critical_days: float = Field(
        28.0, gt=0, description="aging_work: days in progress (critical) with too few samples."
    )
    insight_aging_min_samples: int = Field(
        10, ge=1, description="aging_work: finished items a team's cycle-time percentiles need."
    )
    insight_stale_days: float = Field(
        14.0, gt=0, description="stale_work: days without an event on an open assigned issue."
    )
    insight_due_moves: int = Field(
        2, ge=0, description="due_date_churn: an open issue whose due date moved more often."
    )
    insight_operation_window: int = Field(
        5, ge=1, le=100, description="operation_unhealthy: the last occurrences judged."
    )
    insight_operation_misses: int = Field(
        3, ge=1, description="operation_unhealthy: late or skipped ones among them."
    )
    insight_overload_days: int = Field(
        14, ge=1, le=366, description="overloaded: days ahead committed work is counted for."
    )
    insight_overload_warning: float = Field(
        1.0, gt=0, description="overloaded: a warning above this share of capacity."
    )
    insight_overload_critical: float = Field(
        1.5, gt=0, description="overloaded: critical above this share of capacity."
    )
    insight_idle_load: float = Field(
        0.5, ge=0, description="idle_capacity: a team loaded under this share of capacity."
    )
    insight_reuse_seconds: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="Live insights judged at the view's current position at most this long ago "
        "are answered again, as of the moment judged (0: judge every question).",
    )

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "workledger.sqlite3"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Built in code, settings are what the code says; ``from_env`` reads the environment.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``environ`` (the process's environment by default); a
        ``SettingsError`` naming each variable that is wrong, and why."""
        values: dict[str, Any] = {}
        try:
            values = _Environment(cls, os.environ if environ is None else environ)()
            return cls(**values)
        except ValidationError as error:
            problems = "; ".join(
                f"{variable(str(e['loc'][0]))}: {e['msg']}" for e in error.errors()
            )
            raise SettingsError(problems) from None
        except ValueError as error:
            # A value the environment source itself can't parse (a list that isn't JSON).
            raise SettingsError(str(error)) from None


def variable(name: str) -> str:
    """The environment variable of the setting ``name``."""
    return f"{ENV_PREFIX}{name.upper()}"


def settings_table() -> str:
    """Every setting as a Markdown table (variable, default, description), as
    ``docs/operations.md`` shows it; a test keeps the two the same."""
    lines = ["| variable | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None:
            shown = "—"
        elif isinstance(default, float):
            shown = f"`{default:g}`"
        else:
            shown = f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{variable(name)}` | {shown} | {description} |")
    return "\n".join(lines) + "\n"
