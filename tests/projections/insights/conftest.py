"""Fresh stores beside the suite's one: the same kind as the ``backend`` under test (a new
SQLite file, or a PostgreSQL database of this test's own, emptied before each use), each with a
runtime that keeps the insights view alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from services.app import Runtime, build_runtime
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import Backend
from tests.conftest import FrozenClock, create_database, drop_database, empty_postgres

SLOTS = 2


@dataclass(frozen=True)
class Stores:
    """Makes runtimes over fresh stores of one kind; ``slot`` picks the PostgreSQL database (a
    slot is emptied when it is used again, so one slot holds one store at a time)."""

    kind: str
    folder: Path
    urls: tuple[str, ...]

    @contextmanager
    def runtime(
        self,
        slot: int,
        clock: FrozenClock,
        *,
        run_workers: bool = True,
        settings: dict[str, Any] | None = None,
    ) -> Iterator[Runtime]:
        name = uuid4().hex[:12]
        backend: Backend
        if self.kind == "sqlite":
            backend = SQLiteBackend(str(self.folder / f"store-{name}.sqlite3"))
        else:
            from services.infrastructure.postgres import PostgresBackend

            empty_postgres(self.urls[slot])
            backend = PostgresBackend.from_url(self.urls[slot], pool_size=4, max_overflow=4)
        built = build_runtime(
            Settings(data_dir=self.folder / name, **(settings or {})),
            clock=clock,
            backend=backend,
            run_workers=run_workers,
            views=("insights",),
        )
        built.start()
        try:
            yield built
        finally:
            built.stop()
            backend.close()


@pytest.fixture
def stores(backend: Backend, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """Fresh stores of the kind of ``backend``."""
    if backend.name == "sqlite":
        yield Stores("sqlite", tmp_path, ())
        return
    server: str = request.getfixturevalue("postgres_server_url")
    urls = tuple(create_database(server, "workledger_insights") for _ in range(SLOTS))
    try:
        yield Stores("postgresql", tmp_path, urls)
    finally:
        for url in urls:
            drop_database(server, url)
