"""``deploy/compose.yaml``, its proxy and Prometheus files: every workledger container runs a
real subcommand with real settings; the parts the deployment needs are there and wired to each
other (docs/deploy.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.deploy_files import (
    DEPLOY,
    VIEWS,
    command_refusal,
    interpolated,
    load_yaml,
    settings_refusal,
)

COMPOSE = DEPLOY / "compose.yaml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    found: dict[str, Any] = load_yaml(COMPOSE)["services"]
    return found


def _ours(services: dict[str, Any]) -> dict[str, Any]:
    return {
        name: spec for name, spec in services.items() if spec.get("image") == "workledger:latest"
    }


def test_every_workledger_container_runs_a_real_subcommand_with_valid_settings(
    services: dict[str, Any],
) -> None:
    ours = _ours(services)
    assert set(ours) >= {"migrate", "api", "relay", "scheduler"}
    for name, spec in ours.items():
        assert spec["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        assert command_refusal(list(spec["command"])) is None, (name, spec["command"])
        environment = {key: interpolated(str(value)) for key, value in spec["environment"].items()}
        assert settings_refusal(environment) is None, (name, settings_refusal(environment))
        assert environment["WORKLEDGER_DATABASE_URL"].startswith("postgresql://"), name


def test_one_worker_per_view_and_one_relay_and_scheduler_each_beside_two_api_replicas(
    services: dict[str, Any],
) -> None:
    ours = _ours(services)
    workers = {
        spec["command"][2]: name for name, spec in ours.items() if spec["command"][0] == "worker"
    }
    assert sorted(workers) == VIEWS
    for name in workers.values():
        assert ours[name]["command"][1] == "--view"
        assert "--no-scheduler" in ours[name]["command"]
    assert [spec["command"][0] for spec in ours.values()].count("scheduler") == 1
    assert [spec["command"][0] for spec in ours.values()].count("relay") == 1
    assert ours["api"]["command"][0] == "api"
    assert ours["api"]["deploy"]["replicas"] == 2
    assert ours["relay"]["environment"]["WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    # Only the relay talks to Kafka: elsewhere the setting would start a relay or judge one.
    others = [spec for name, spec in ours.items() if name != "relay"]
    assert all("WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS" not in spec["environment"] for spec in others)


def test_the_database_is_prepared_once_before_anything_else_of_ours_starts(
    services: dict[str, Any],
) -> None:
    ours = _ours(services)
    assert ours["migrate"]["command"] == ["migrate"]
    assert ours["migrate"]["restart"] == "no"
    assert ours["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, spec in ours.items():
        if name != "migrate":
            condition = spec["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully", name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_kafka_is_apache_kafka_in_kraft_mode_with_a_healthcheck(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    environment = kafka["environment"]
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert (
        environment["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        == f"{environment['KAFKA_NODE_ID']}@kafka:9093"
    )
    assert "PLAINTEXT://kafka:9092" in environment["KAFKA_ADVERTISED_LISTENERS"]
    assert services["relay"]["depends_on"]["kafka"] == {"condition": "service_healthy"}


def test_processes_without_the_api_serve_metrics_on_the_port_prometheus_scrapes(
    services: dict[str, Any],
) -> None:
    scrape = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    targets = {
        target
        for job in scrape["scrape_configs"]
        for config in job.get("static_configs", ())
        for target in config["targets"]
    }
    ours = _ours(services)
    headless = {
        name
        for name, spec in ours.items()
        if spec["command"][0] in ("worker", "relay", "scheduler")
    }
    assert targets == {f"{name}:9100" for name in headless}
    for name in headless:
        assert ours[name]["environment"]["WORKLEDGER_METRICS_PORT"] == "9100", name
        assert "9100/metrics" in " ".join(ours[name]["healthcheck"]["test"]), name
    [api_job] = [job for job in scrape["scrape_configs"] if "dns_sd_configs" in job]
    assert api_job["dns_sd_configs"] == [{"names": ["api"], "type": "A", "port": 8000}]
    assert "/etc/prometheus/alerts.yml" in scrape["rule_files"]


def test_the_proxy_balances_over_the_api_replicas_and_streams_sse_unbuffered(
    services: dict[str, Any],
) -> None:
    config = (DEPLOY / "proxy" / "nginx.conf").read_text()
    assert config.count("{") == config.count("}")
    assert re.search(r"server api:8000;", config)
    stream = config[config.index("location /v1/events/stream") :]
    stream = stream[: stream.index("}")]
    assert "proxy_buffering off;" in stream
    api = services["api"]["command"]
    assert api[api.index("--port") + 1] == "8000"


def test_monitoring_is_a_profile_and_every_mounted_file_exists(services: dict[str, Any]) -> None:
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    for name, spec in services.items():
        for volume in spec.get("volumes", ()):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), (name, source)
