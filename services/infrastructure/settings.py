"""Settings, read once from the environment and validated on load."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DATABASE_WAIT_SECONDS = 1.0


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


class Settings(BaseModel):
    """Every knob of workledger; each is read from ``WORKLEDGER_<NAME>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(Path(".workledger"), description="Where the SQLite database lives.")
    database_url: str | None = Field(None, description="A PostgreSQL URL; overrides SQLite.")
    kafka_bootstrap_servers: str | None = Field(None, description="Turns the Kafka relay on.")
    kafka_topic: str = "workledger.events"
    kafka_topic_partitions: int = Field(
        6, ge=1, description="Partitions of the topic the relay creates."
    )
    kafka_topic_replication: int = Field(
        1, ge=1, description="Replication of the topic the relay creates (3 in production)."
    )
    event_stream_heartbeat_seconds: float = Field(
        15.0, gt=0, description="Keep-alive interval of /v1/events/stream."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_body_bytes: int = Field(65536, ge=1024, description="Largest request body accepted.")
    commit_max_batch: int = Field(512, ge=1, description="Most commands in one transaction.")
    command_retries: int = Field(5, ge=1, description="Attempts for a command that conflicts.")
    scheduler_horizon_days: int = Field(
        14, ge=0, description="How far ahead operation occurrences are created."
    )
    scheduler_interval_seconds: float = Field(
        60.0, gt=0, description="How often the scheduler ticks."
    )
    db_pool_size: int = Field(8, ge=1)
    database_wait_seconds: float = Field(
        DATABASE_WAIT_SECONDS,
        gt=0,
        description="How long a request waits for a database connection before answering 503.",
    )
    workers: int = Field(1, ge=1, le=64, description="API processes sharing the port.")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "workledger.sqlite3"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {
            name: env[f"WORKLEDGER_{name.upper()}"]
            for name in cls.model_fields
            if f"WORKLEDGER_{name.upper()}" in env and env[f"WORKLEDGER_{name.upper()}"] != ""
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"WORKLEDGER_{str(e['loc'][0]).upper()}: {e['msg']}" for e in error.errors()
            )
            raise SettingsError(problems) from None
