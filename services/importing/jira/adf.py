"""Plain text of an Atlassian Document Format (ADF) document: how Jira Cloud's REST API v3 writes
descriptions and comment bodies (v2 writes them as plain strings already).

Blocks are separated by a blank line, list items start with ``-`` or their number, quotes with
``>``, table cells are separated by ``|``; mentions, emoji, cards and dates become their text.
Attachments have no text of their own, so they are named by their alt text or ``[attachment]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.importing.jira.errors import JiraExportError

# Nodes that sit inside a line of text; the others are blocks, one under another.
_INLINE = frozenset(
    {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "mediaInline"}
)
_MEDIA = frozenset({"media", "mediaSingle", "mediaGroup", "mediaInline"})
_CARDS = frozenset({"inlineCard", "blockCard", "embedCard"})


def adf_text(document: Any, where: str) -> str:
    """The text of an ADF document (a ``{"type": "doc", ...}`` object)."""
    node = _node(document, where)
    if node.get("type") != "doc":
        raise JiraExportError("an ADF document must be of type 'doc'", where)
    return _render(node, where).strip()


def _node(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not isinstance(value.get("type"), str):
        raise JiraExportError("expected an ADF node (an object with a 'type')", where)
    return value


def _children(node: Mapping[str, Any], where: str) -> list[tuple[Mapping[str, Any], str]]:
    content = node.get("content", [])
    if not isinstance(content, list):
        raise JiraExportError("an ADF node's content must be a list", f"{where}.content")
    return [
        (_node(child, f"{where}.content[{index}]"), f"{where}.content[{index}]")
        for index, child in enumerate(content)
    ]


def _attribute(node: Mapping[str, Any], name: str) -> str:
    attrs = node.get("attrs")
    value = attrs.get(name) if isinstance(attrs, Mapping) else None
    return str(value) if value is not None else ""


def _render(node: Mapping[str, Any], where: str) -> str:
    kind = node["type"]
    if kind == "text":
        text = node.get("text")
        if not isinstance(text, str):
            raise JiraExportError("an ADF text node needs its text", where)
        return text
    if kind == "hardBreak":
        return "\n"
    if kind in {"mention", "emoji", "status"}:
        return _attribute(node, "text") or _attribute(node, "shortName")
    if kind in _CARDS:
        return _attribute(node, "url")
    if kind == "date":
        return _date(_attribute(node, "timestamp"))
    if kind == "rule":
        return "---"
    if kind in _MEDIA:
        return _media(node, where)
    children = _children(node, where)
    if kind in {"bulletList", "orderedList", "taskList", "decisionList"}:
        return _list(node, children)
    if kind == "blockquote":
        return "\n".join(f"> {line}" for line in _join(children).splitlines())
    if kind == "table":
        return "\n".join(_row(row, row_where) for row, row_where in children)
    return _join(children)


def _join(children: list[tuple[Mapping[str, Any], str]]) -> str:
    """Inline children run on in one line; blocks are separated by a blank line."""
    if all(child["type"] in _INLINE for child, _ in children):
        return "".join(_render(child, where) for child, where in children)
    rendered = (_render(child, where).strip("\n") for child, where in children)
    return "\n\n".join(text for text in rendered if text)


def _list(node: Mapping[str, Any], items: list[tuple[Mapping[str, Any], str]]) -> str:
    order = _attribute(node, "order")
    start = int(order) if order.isdigit() else 1
    lines: list[str] = []
    for index, (item, where) in enumerate(items):
        if node["type"] == "orderedList":
            marker = f"{start + index}. "
        elif item["type"] == "taskItem":
            marker = "- [x] " if _attribute(item, "state") == "DONE" else "- [ ] "
        else:
            marker = "- "
        text = _join(_children(item, where)).replace("\n\n", "\n")
        first, *rest = text.splitlines() or [""]
        lines.append(marker + first)
        lines.extend(" " * len(marker) + line for line in rest)
    return "\n".join(lines)


def _row(row: Mapping[str, Any], where: str) -> str:
    cells = (_join(_children(cell, cell_where)) for cell, cell_where in _children(row, where))
    return " | ".join(cell.replace("\n", " ") for cell in cells)


def _media(node: Mapping[str, Any], where: str) -> str:
    if node["type"] in {"mediaSingle", "mediaGroup"}:
        return _join(_children(node, where))
    return _attribute(node, "alt") or "[attachment]"


def _date(timestamp: str) -> str:
    """ADF dates are milliseconds since the epoch, as text."""
    try:
        return datetime.fromtimestamp(int(timestamp) / 1000, UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        return timestamp
