"""``deploy/Dockerfile`` and ``.dockerignore``: the image installs the package the way
``pyproject.toml`` declares it, in a final stage without build tools, as a user of its own,
with a healthcheck; and the monitoring files parse (docs/deploy.md)."""

from __future__ import annotations

import json
import re
import tomllib

from tests.integration.deploy_files import DEPLOY, REPO, load_yaml, monitored_metric_names

DOCKERFILE = DEPLOY / "Dockerfile"
INSTRUCTION = re.compile(r"^(?P<word>[A-Z]+)\s+(?P<rest>.*)$")


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            match = INSTRUCTION.match(line)
            assert match, f"not an instruction: {line}"
            found.append((match.group("word"), match.group("rest")))
    return found


def _copied(stage: list[tuple[str, str]]) -> set[str]:
    """What a stage copies from the build context (not ``--from`` another stage)."""
    sources: set[str] = set()
    for word, rest in stage:
        if word == "COPY" and not rest.startswith("--from"):
            sources.update(rest.split()[:-1])
    return sources


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for word, rest in _instructions():
        if word == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((word, rest))
    return stages


def test_the_image_installs_the_package_as_pyproject_declares_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    build, final = _stages()
    copied = _copied(build)
    packages = {
        name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert copied == {"pyproject.toml", project["project"]["readme"], *packages}
    assert any("pip wheel" in rest and rest.endswith(" .") for word, rest in build if word == "RUN")
    installs = [rest for word, rest in final if word == "RUN" and "pip install" in rest]
    assert installs
    assert all("--no-index" in rest for rest in installs)
    assert any(project["project"]["name"] in rest.split() for rest in installs)
    [entrypoint] = [rest for word, rest in final if word == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["workledger"]
    assert "workledger" in project["project"]["scripts"]
    # The base image's Python meets the project's floor.
    [version] = [rest for word, rest in _instructions() if word == "ARG"]
    major, minor = map(int, version.split("=")[1].split("."))
    floor = tuple(map(int, project["project"]["requires-python"].lstrip(">=").split(".")))
    assert (major, minor) >= floor


def test_the_final_stage_has_no_build_tools_runs_as_a_user_and_checks_its_health() -> None:
    _, final = _stages()
    assert final[0][1].startswith("python:${PYTHON_VERSION}-slim")
    text = " ".join(rest for _, rest in final)
    for tool in ("gcc", "build-essential", "apt-get install", "setuptools"):
        assert tool not in text, tool
    [user] = [rest for word, rest in final if word == "USER"]
    assert not user.startswith(("root", "0"))
    [check] = [rest for word, rest in final if word == "HEALTHCHECK"]
    assert "/healthz" in check
    assert ("EXPOSE", "8000") in final


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    build, _ = _stages()
    assert _copied(build) == allowed


def test_the_dashboard_and_alerts_parse_and_name_only_workledger_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "workledger.json").read_text())
    assert dashboard["uid"] == "workledger"
    assert dashboard["panels"]
    datasource = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")
    [source] = datasource["datasources"]
    assert all(panel["datasource"]["uid"] == source["uid"] for panel in dashboard["panels"])
    names = monitored_metric_names()
    assert len(names) >= 15, names
    assert all(name.startswith("workledger_") for name in names)
