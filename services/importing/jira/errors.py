"""The error raised on an export that isn't the shape Jira's REST API documents."""

from __future__ import annotations


class JiraExportError(ValueError):
    """What is wrong with the export, and where in it (like ``pages[0].issues[3] (PAY-12)``)."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{where}: {what}")
        self.what = what
        self.where = where
