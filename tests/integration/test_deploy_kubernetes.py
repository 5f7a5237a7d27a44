"""``deploy/kubernetes/base``: the kustomization's resources exist and parse; every container
runs a real subcommand with valid settings, has probes on real endpoints and resource requests;
the Service, HPA and PDB find the API's pods (docs/deploy.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.deploy_files import (
    DEPLOY,
    VIEWS,
    command_refusal,
    load_all_yaml,
    load_yaml,
    settings_refusal,
)

BASE = DEPLOY / "kubernetes" / "base"


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], Any]:
    kustomization = load_yaml(BASE / "kustomization.yaml")
    found: dict[tuple[str, str], Any] = {}
    for resource in kustomization["resources"]:
        for document in load_all_yaml(BASE / resource):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def _pods(objects: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """Each Deployment's and Job's pod template, by name."""
    return {
        name: document["spec"]["template"]
        for (kind, name), document in objects.items()
        if kind in ("Deployment", "Job")
    }


def _environment(container: dict[str, Any], objects: dict[tuple[str, str], Any]) -> dict[str, str]:
    """What the container's environment holds: its ConfigMap, the example Secret, its own."""
    secret = load_yaml(BASE / "secret.example.yaml")
    environment: dict[str, str] = {}
    for source in container.get("envFrom", ()):
        if "configMapRef" in source:
            environment |= objects[("ConfigMap", source["configMapRef"]["name"])]["data"]
        else:
            assert source["secretRef"]["name"] == secret["metadata"]["name"]
            environment |= secret["stringData"]
    for variable in container.get("env", ()):
        environment[variable["name"]] = variable["value"]
    return environment


def test_every_container_runs_a_real_subcommand_with_valid_settings_and_requests(
    objects: dict[tuple[str, str], Any],
) -> None:
    pods = _pods(objects)
    assert pods
    for name, pod in pods.items():
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["spec"]["containers"]:
            assert container["image"] == "workledger", name
            assert command_refusal(container["args"]) is None, (name, container["args"])
            environment = _environment(container, objects)
            assert settings_refusal(environment) is None, (name, settings_refusal(environment))
            requests = container["resources"]["requests"]
            assert requests["cpu"], name
            assert requests["memory"], name


def test_one_worker_per_view_a_relay_and_a_scheduler_each_never_two_at_once(
    objects: dict[tuple[str, str], Any],
) -> None:
    pods = _pods(objects)
    commands = {name: pod["spec"]["containers"][0]["args"] for name, pod in pods.items()}
    views = sorted(args[2] for args in commands.values() if args[0] == "worker")
    assert views == VIEWS
    assert sorted(args[0] for args in commands.values() if args[0] != "worker") == [
        "api",
        "migrate",
        "relay",
        "scheduler",
    ]
    for (kind, name), document in objects.items():
        if kind == "Deployment" and name != "workledger-api":
            assert document["spec"]["replicas"] == 1, name
            assert document["spec"]["strategy"] == {"type": "Recreate"}, name
            container = document["spec"]["template"]["spec"]["containers"][0]
            assert _environment(container, objects)["WORKLEDGER_METRICS_PORT"] == "9100"
            assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
            assert container["ports"] == [{"name": "metrics", "containerPort": 9100}]
    relay = objects[("Deployment", "workledger-relay")]["spec"]["template"]["spec"]["containers"][0]
    assert "WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS" in _environment(relay, objects)
    shared = objects[("ConfigMap", "workledger-settings")]["data"]
    # Anywhere else the setting would start a relay, or make /readyz judge one.
    assert "WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS" not in shared


def test_the_api_is_probed_on_healthz_and_readyz_and_found_by_its_service_hpa_and_pdb(
    objects: dict[tuple[str, str], Any],
) -> None:
    deployment = objects[("Deployment", "workledger-api")]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    port = container["args"][container["args"].index("--port") + 1]
    assert container["ports"] == [{"name": "http", "containerPort": int(port)}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    service = objects[("Service", "workledger-api")]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    autoscaler = objects[("HorizontalPodAutoscaler", "workledger-api")]
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "workledger-api",
    }
    assert autoscaler["spec"]["minReplicas"] >= 2
    budget = objects[("PodDisruptionBudget", "workledger-api")]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["minAvailable"] == 1


def test_the_migrate_job_prepares_the_database_and_the_secret_is_an_example_only(
    objects: dict[tuple[str, str], Any],
) -> None:
    job = objects[("Job", "workledger-migrate")]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    kustomization = load_yaml(BASE / "kustomization.yaml")
    assert "secret.example.yaml" not in kustomization["resources"]
    assert load_yaml(BASE / "secret.example.yaml")["kind"] == "Secret"
