"""Jira Cloud's REST search export (``GET /rest/api/3/search?expand=changelog``, or v2) as
workledger import lines, with the full history of each issue at its original times.

    conversion = convert(load_export(path), JiraOptions(story_points_field="customfield_10016"))
    for text in conversion.report.text_lines(): print(text)
    Path("jira.jsonl").write_bytes(b"".join(dump_lines(conversion.lines)))
"""

from __future__ import annotations

from services.importing.jira.convert import JiraConversion, convert
from services.importing.jira.errors import JiraExportError
from services.importing.jira.export import load_export
from services.importing.jira.mapping import JiraOptions
from services.importing.jira.report import JiraReport, Tally

__all__ = [
    "JiraConversion",
    "JiraExportError",
    "JiraOptions",
    "JiraReport",
    "Tally",
    "convert",
    "load_export",
]
