"""Jira Cloud's search export read into typed records: the answer of
``GET /rest/api/3/search?expand=changelog`` (or ``/rest/api/2/search``), a list of such pages, or
one page. Anything that isn't the documented shape is refused with what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from services.importing.jira.adf import adf_text
from services.importing.jira.errors import JiraExportError

# Jira Cloud shows a deleted account under this name, and keeps its accountId.
FORMER_USER = "Former user"


@dataclass(frozen=True)
class JiraUser:
    account_id: str
    name: str
    email: str | None
    active: bool


@dataclass(frozen=True)
class JiraStatus:
    id: str | None
    name: str
    category: str | None


@dataclass(frozen=True)
class JiraChange:
    """One changed field of a changelog history: ``old``/``new`` are Jira's ``from``/``to``
    (ids, account ids, raw values), ``old_text``/``new_text`` its ``fromString``/``toString``."""

    field: str
    field_id: str | None
    old: str | None
    old_text: str | None
    new: str | None
    new_text: str | None

    def concerns(self, names: frozenset[str]) -> bool:
        """Whether the change is of a field in ``names`` (lower case), by its name or its id."""
        return self.field.lower() in names or (self.field_id or "").lower() in names


@dataclass(frozen=True)
class JiraHistory:
    id: str
    at: datetime
    author: JiraUser | None
    changes: tuple[JiraChange, ...]


@dataclass(frozen=True)
class JiraComment:
    id: str
    author: JiraUser | None
    body: str
    at: datetime


@dataclass(frozen=True)
class JiraLink:
    """``direction`` is the side the other issue is on: ``outward`` reads "this issue blocks
    the other", ``inward`` reads "this issue is blocked by the other"."""

    type_name: str
    direction: Literal["inward", "outward"]
    other_key: str


@dataclass(frozen=True)
class JiraIssue:
    id: str
    key: str
    where: str
    site: str | None
    project_key: str
    project_name: str
    summary: str
    description: str
    issue_type: str
    status: JiraStatus
    priority: str | None
    assignee: JiraUser | None
    reporter: JiraUser | None
    creator: JiraUser | None
    created: datetime
    due_date: date | None
    parent_key: str | None
    links: tuple[JiraLink, ...]
    comments: tuple[JiraComment, ...]
    comments_missing: int
    labels: tuple[str, ...]
    original_estimate: float | None
    fields: Mapping[str, Any]
    has_changelog: bool
    histories: tuple[JiraHistory, ...]
    histories_missing: int

    @property
    def number(self) -> int:
        tail = self.key.rpartition("-")[2]
        return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True)
class JiraExport:
    issues: tuple[JiraIssue, ...]
    field_names: Mapping[str, str]
    duplicates: tuple[str, ...]


def load_export(path: Path) -> Any:
    """The JSON of an export file, as it is; ``read_export`` checks its shape."""
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise JiraExportError(f"not JSON: {error.msg}", f"{path}:{error.lineno}") from error


def read_export(export: Any) -> JiraExport:
    """The issues of every page, in the order given; an issue given twice is kept once."""
    if isinstance(export, Mapping):
        pages = [(export, "page")]
    elif isinstance(export, list):
        pages = [(_object(page, f"pages[{n}]"), f"pages[{n}]") for n, page in enumerate(export)]
    else:
        raise JiraExportError("expected a search page (an object with 'issues') or a list", "$")
    issues: dict[str, JiraIssue] = {}
    names: dict[str, str] = {}
    duplicates: list[str] = []
    for page, where in pages:
        if not isinstance(page.get("issues"), list):
            raise JiraExportError("a search page needs its 'issues' list", where)
        page_names = page.get("names", {})
        if isinstance(page_names, Mapping):
            names.update({k: v for k, v in page_names.items() if isinstance(v, str)})
        for index, raw in enumerate(page["issues"]):
            issue = _issue(raw, f"{where}.issues[{index}]")
            if issue.key in issues:
                duplicates.append(issue.key)
            else:
                issues[issue.key] = issue
    return JiraExport(tuple(issues.values()), names, tuple(duplicates))


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise JiraExportError("expected an object", where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise JiraExportError("expected a list", where)
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise JiraExportError("expected a non-empty string", where)
    return value


def _optional_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise JiraExportError("expected a string or null", where)
    return value


def _id(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, where)


def parse_time(value: Any, where: str) -> datetime:
    """Jira writes times like ``2024-01-15T09:30:00.000+0100``; a time without its zone is
    refused, as the moment it names is unknown."""
    text = _text(value, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise JiraExportError(f"not a time: {text!r}", where) from error
    if moment.tzinfo is None:
        raise JiraExportError(f"a time needs its zone: {text!r}", where)
    return moment


def parse_date(value: Any, where: str) -> date | None:
    """A due date: ``2024-03-01``, or as a changelog writes it, ``2024-03-01 00:00:00.0``."""
    text = _optional_text(value, where)
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError as error:
        raise JiraExportError(f"not a date: {text!r}", where) from error


def _rich_text(value: Any, where: str) -> str:
    """A description or comment body: ADF in v3, a plain string in v2."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return adf_text(value, where)


def _user(value: Any, where: str) -> JiraUser | None:
    if value is None:
        return None
    user = _object(value, where)
    # Cloud names every user by accountId; Server's v2 by key or name.
    account = user.get("accountId") or user.get("key") or user.get("name")
    account_id = _text(account, f"{where}.accountId")
    name = user.get("displayName")
    name = name.strip() if isinstance(name, str) and name.strip() else account_id
    email = user.get("emailAddress")
    email = email.strip() if isinstance(email, str) and email.strip() else None
    active = user.get("active", True) is not False and name != FORMER_USER
    return JiraUser(account_id, name, email, active)


def _named(value: Any, where: str) -> str | None:
    """The name of an object like ``priority`` or ``issuetype``; ``None`` when absent."""
    if value is None:
        return None
    return _text(_object(value, where).get("name"), f"{where}.name")


def _status(value: Any, where: str) -> JiraStatus:
    status = _object(value, where)
    category = status.get("statusCategory")
    key = _object(category, f"{where}.statusCategory").get("key") if category else None
    return JiraStatus(
        _optional_text(status.get("id"), f"{where}.id"),
        _text(status.get("name"), f"{where}.name"),
        key if isinstance(key, str) else None,
    )


def _link(value: Any, where: str) -> JiraLink:
    link = _object(value, where)
    type_name = _text(_object(link.get("type"), f"{where}.type").get("name"), f"{where}.type.name")
    for direction in ("outward", "inward"):
        other = link.get(f"{direction}Issue")
        if other is not None:
            key = _text(_object(other, f"{where}.{direction}Issue").get("key"), where)
            return JiraLink(type_name, direction, key)
    raise JiraExportError("a link needs its inwardIssue or outwardIssue", where)


def _comment(value: Any, where: str) -> JiraComment:
    comment = _object(value, where)
    return JiraComment(
        _id(comment.get("id"), f"{where}.id"),
        _user(comment.get("author"), f"{where}.author"),
        _rich_text(comment.get("body"), f"{where}.body"),
        parse_time(comment.get("created"), f"{where}.created"),
    )


def _change(value: Any, where: str) -> JiraChange:
    item = _object(value, where)
    return JiraChange(
        _text(item.get("field"), f"{where}.field"),
        _optional_text(item.get("fieldId"), f"{where}.fieldId"),
        _optional_text(item.get("from"), f"{where}.from"),
        _optional_text(item.get("fromString"), f"{where}.fromString"),
        _optional_text(item.get("to"), f"{where}.to"),
        _optional_text(item.get("toString"), f"{where}.toString"),
    )


def _history(value: Any, where: str) -> JiraHistory:
    history = _object(value, where)
    items = _list(history.get("items"), f"{where}.items")
    return JiraHistory(
        _id(history.get("id"), f"{where}.id"),
        parse_time(history.get("created"), f"{where}.created"),
        _user(history.get("author"), f"{where}.author"),
        tuple(_change(item, f"{where}.items[{n}]") for n, item in enumerate(items)),
    )


def _missing(container: Mapping[str, Any], listed: int) -> int:
    """How many entries a paged list (comments, changelog) left out of this export."""
    total = container.get("total")
    return max(0, total - listed) if isinstance(total, int) else 0


def _issue(value: Any, where: str) -> JiraIssue:
    raw = _object(value, where)
    key = _text(raw.get("key"), f"{where}.key")
    where = f"{where} ({key})"
    fields = _object(raw.get("fields"), f"{where}.fields")
    project = _object(fields.get("project") or {}, f"{where}.fields.project")
    project_key = project.get("key") or key.rpartition("-")[0]
    comment_page = _object(fields.get("comment") or {}, f"{where}.fields.comment")
    comments = _list(comment_page.get("comments"), f"{where}.fields.comment.comments")
    changelog = raw.get("changelog")
    log = _object(changelog or {}, f"{where}.changelog")
    histories = [
        _history(history, f"{where}.changelog.histories[{n}]")
        for n, history in enumerate(_list(log.get("histories"), f"{where}.changelog.histories"))
    ]
    estimate = fields.get("timeoriginalestimate")
    if estimate is not None and (not isinstance(estimate, int | float) or estimate < 0):
        raise JiraExportError("expected seconds", f"{where}.fields.timeoriginalestimate")
    parent = fields.get("parent")
    self_url = raw.get("self")
    site = urlsplit(self_url).netloc if isinstance(self_url, str) else ""
    project_name = project.get("name")
    return JiraIssue(
        id=_id(raw.get("id"), f"{where}.id"),
        key=key,
        where=where,
        site=site or None,
        project_key=_text(project_key, f"{where}.fields.project.key"),
        project_name=(
            project_name.strip()
            if isinstance(project_name, str) and project_name.strip()
            else str(project_key)
        ),
        summary=_text(fields.get("summary"), f"{where}.fields.summary"),
        description=_rich_text(fields.get("description"), f"{where}.fields.description"),
        issue_type=_named(fields.get("issuetype"), f"{where}.fields.issuetype") or "Task",
        status=_status(fields.get("status"), f"{where}.fields.status"),
        priority=_named(fields.get("priority"), f"{where}.fields.priority"),
        assignee=_user(fields.get("assignee"), f"{where}.fields.assignee"),
        reporter=_user(fields.get("reporter"), f"{where}.fields.reporter"),
        creator=_user(fields.get("creator"), f"{where}.fields.creator"),
        created=parse_time(fields.get("created"), f"{where}.fields.created"),
        due_date=parse_date(fields.get("duedate"), f"{where}.fields.duedate"),
        parent_key=(
            _text(_object(parent, f"{where}.fields.parent").get("key"), f"{where}.fields.parent")
            if parent is not None
            else None
        ),
        links=tuple(
            _link(link, f"{where}.fields.issuelinks[{n}]")
            for n, link in enumerate(_list(fields.get("issuelinks"), f"{where}.fields.issuelinks"))
        ),
        comments=tuple(
            _comment(comment, f"{where}.fields.comment.comments[{n}]")
            for n, comment in enumerate(comments)
        ),
        comments_missing=_missing(comment_page, len(comments)),
        labels=tuple(
            _text(label, f"{where}.fields.labels[{n}]")
            for n, label in enumerate(_list(fields.get("labels"), f"{where}.fields.labels"))
        ),
        original_estimate=float(estimate) if estimate is not None else None,
        fields=fields,
        has_changelog=changelog is not None,
        histories=tuple(sorted(histories, key=lambda h: (h.at, h.id.zfill(20)))),
        histories_missing=_missing(log, len(histories)),
    )
