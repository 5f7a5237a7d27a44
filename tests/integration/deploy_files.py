"""What the deploy checks share: reading the files in ``deploy/``, and judging a container's
command and settings the way the ``workledger`` it runs would.

Containers don't run here, so each file is checked for what would go wrong in one: a command
the command line refuses, a ``WORKLEDGER_*`` variable that is no setting or has a value the
settings refuse, a metric that the service doesn't export."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from services.cli import _parser
from services.infrastructure.settings import Settings
from services.projections.views import all_projections

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PREFIX = "WORKLEDGER_"
VIEWS = sorted(projection.name for projection in all_projections())
# `${NAME:-default}` and `${NAME}` in compose files: taken at their defaults.
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")
METRIC = re.compile(r"\bworkledger_[a-z_]+\b")
# What Prometheus adds to a histogram's (or a counter's) name in its samples.
SAMPLE_SUFFIXES = ("_bucket", "_count", "_sum", "_created")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_all_yaml(path: Path) -> list[Any]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def interpolated(value: str) -> str:
    """A compose value with its variables at their defaults (or empty, as compose does)."""
    return INTERPOLATION.sub(lambda match: match.group("default") or "", value)


def command_refusal(argv: list[str]) -> str | None:
    """Why ``workledger`` would refuse ``argv`` (its arguments after the program's name), or
    None when it parses them."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parsed = _parser().parse_args(argv)
    except SystemExit:
        return errors.getvalue().strip() or "refused"
    assert isinstance(parsed, argparse.Namespace)
    view = getattr(parsed, "view", None)
    if isinstance(view, str) and view not in VIEWS:
        return f"no view named {view!r}"
    return None


def setting_names() -> set[str]:
    return {PREFIX + name.upper() for name in Settings.model_fields}


def settings_refusal(environment: Mapping[str, str]) -> str | None:
    """Why the settings would refuse the ``WORKLEDGER_*`` part of ``environment``, or None."""
    ours = {name: value for name, value in environment.items() if name.startswith(PREFIX)}
    unknown = sorted(set(ours) - setting_names())
    if unknown:
        return f"not settings: {', '.join(unknown)}"
    try:
        Settings.from_env(ours)
    except Exception as error:  # the settings' own error names each variable and why
        return str(error)
    return None


def metric_names(text: str) -> set[str]:
    """The metric families named in ``text`` (dashboard queries, alert expressions)."""
    names = set()
    for found in METRIC.findall(text):
        suffix = next((suffix for suffix in SAMPLE_SUFFIXES if found.endswith(suffix)), "")
        names.add(found.removesuffix(suffix) if suffix else found)
    return names


def dashboard_expressions(dashboard: Mapping[str, Any]) -> Iterator[str]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", ()):
            yield target["expr"]


def alert_expressions(rules: Mapping[str, Any]) -> Iterator[str]:
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield str(rule["expr"])


def monitored_metric_names() -> set[str]:
    """Every metric the dashboard and the alerts name."""
    dashboard = load_yaml(DEPLOY / "grafana" / "dashboards" / "workledger.json")
    rules = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    text = "\n".join([*dashboard_expressions(dashboard), *alert_expressions(rules)])
    return metric_names(text)
