"""The workspace's templates (Jinja2, escaped by default) and the filters they format with.

Times are shown in UTC and say so: the log records UTC, a time-travel moment is written in UTC,
and a page that mixed zones would show two moments as one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: Any) -> str:
    """A moment as a person reads it: ``2026-11-03 14:05 UTC``."""
    moment = _moment(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def day(value: Any) -> str:
    """A date, or the date of a moment: ``3 Nov 2026``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, date) and not isinstance(value, datetime):
        found = value
    elif isinstance(value, str) and len(value) == 10:
        found = date.fromisoformat(value)
    else:
        moment = _moment(value)
        assert moment is not None
        found = moment.astimezone(UTC).date()
    return f"{found.day} {found.strftime('%b %Y')}"


def moment_input(value: Any) -> str:
    """A moment as a ``datetime-local`` control holds it (UTC, to the minute)."""
    moment = _moment(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def percent(value: Any) -> str:
    return "—" if value is None else f"{round(float(value) * 100):d}%"


def number(value: Any) -> str:
    """A count or an estimate without a trailing ``.0``."""
    if value is None:
        return "—"
    amount = float(value)
    return f"{amount:.0f}" if amount.is_integer() else f"{amount:.1f}"


def label(value: Any) -> str:
    """An enumerated value as words: ``in_progress`` → ``in progress``."""
    return "—" if value is None else str(value).replace("_", " ")


def short_id(value: Any) -> str:
    return str(value)[:8]


def query(base: dict[str, Any], **changes: Any) -> str:
    """A query string: ``base`` with ``changes`` (``None`` removes a parameter)."""
    merged = {**base, **changes}
    kept = {key: value for key, value in merged.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


# What a dict has as attributes: every other name looked up on one can only be one of its keys.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's environment, reading a name like ``project.key`` of the JSON answers pages render
    from the dict at once. Jinja tries the attribute first and the key only after its
    ``AttributeError``, which costs most of the lookup; a plain dict has no attributes but its
    methods, so the key is what Jinja would find anyway (a method's name still finds the
    method). It takes a fifth off rendering the portfolio (docs/benchmarks.md, Pages)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@cache
def templates() -> Environment:
    """The workspace's templates, loaded once per process (they are files of the release)."""
    environment = _Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.filters.update(
        when=when,
        day=day,
        moment_input=moment_input,
        percent=percent,
        number=number,
        label=label,
        short_id=short_id,
    )
    environment.globals["query"] = query
    # The shared macros are globals, so a page's main part renders alone (a live update) with
    # them as the whole page does.
    macros = environment.get_template("parts/macros.html").module
    environment.globals.update(
        {name: getattr(macros, name) for name in dir(macros) if not name.startswith("_")}
    )
    return environment
