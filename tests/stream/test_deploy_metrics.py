"""Every metric the deployment's dashboard and alerts name (``deploy/grafana``,
``deploy/prometheus``) is one a running ``workledger serve`` exports: scraped from the real
process, with the relay on a real broker, after a command and a query."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.tokens import TokenStore
from tests.integration.deploy_files import monitored_metric_names
from tests.stream.conftest import TansuBroker, free_port


def _admin_token(data_dir: Path) -> str:
    backend = SQLiteBackend(str(data_dir / "workledger.sqlite3"))
    try:
        return TokenStore(backend).create("admin")
    finally:
        backend.close()


def test_every_metric_the_dashboard_and_alerts_name_is_one_serve_exports(
    broker: TansuBroker, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    token = _admin_token(data_dir)
    port = free_port()
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("WORKLEDGER_")
    }
    environment |= {
        "WORKLEDGER_DATA_DIR": str(data_dir),
        "WORKLEDGER_PORT": str(port),
        "WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
    }
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "serve did not start within 60 s"
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(f"{base}/v1/teams", json={"name": "Payments"}, headers=headers)
        assert created.status_code == 201, created.text
        assert httpx.get(f"{base}/v1/views/portfolio", headers=headers).status_code == 200
        scraped = httpx.get(f"{base}/metrics")
        assert scraped.status_code == 200, scraped.text
    finally:
        process.terminate()
        process.wait(15)

    exported = {family.name for family in text_string_to_metric_families(scraped.text)}
    # The parser names a counter's family without its `_total`.
    exported |= {f"{name}_total" for name in exported}
    named = monitored_metric_names()
    assert named <= exported, sorted(named - exported)
