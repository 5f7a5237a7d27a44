"""What the browser tests check on every page: accessibility (axe-core), load time, and the one
heading a page has; and where its screenshot goes.

axe-core is vendored for the tests alone (the workspace never serves it): ``vendor/axe.min.js``
is the npm package's ``axe.min.js`` (its first line names the version), beside its ``LICENSE``
(MPL-2.0) and ``LICENSE-3RD-PARTY.txt``; ``npm pack axe-core@4`` fetches a newer one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Violations a person using assistive technology cannot get past; minor and moderate ones are
# reported by axe too, but do not fail the test.
BLOCKING = ("serious", "critical")
# A page of the demo organisation loads within this, as the issue asks.
LOAD_BUDGET_MS = 1000.0

_TIMING = """() => new Promise((resolve) => {
  const read = () => {
    const entry = performance.getEntriesByType("navigation")[0];
    if (entry && entry.loadEventEnd > 0) {
      resolve({response: entry.responseEnd - entry.startTime, load: entry.duration});
    } else {
      setTimeout(read, 10);
    }
  };
  read();
})"""


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
    )
    return [found for found in results["violations"] if found["impact"] in BLOCKING]


def described(violations: list[dict[str, Any]]) -> str:
    """The violations as a person fixing them reads them: rule, impact, where, and why."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {', '.join(map(str, node['target']))}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    violations = accessibility_violations(page)
    assert not violations, f"axe-core finds on {what}:\n{described(violations)}"


# Counts the htmx requests of a page in flight, from before its own scripts run.
COUNT_HTMX_REQUESTS = """
window.htmxInFlight = 0;
document.addEventListener("htmx:beforeRequest", () => { window.htmxInFlight += 1; });
document.addEventListener("htmx:afterRequest", () => { window.htmxInFlight -= 1; });
"""


def settled(page: Page) -> None:
    """Waits until the parts a page loads after itself (htmx, ``hx-trigger="load"``) are in."""
    page.wait_for_function("() => window.htmxInFlight === 0")


_ROWS_OFF_CONTRACT = """() => Array.from(document.querySelectorAll("#page [data-row]"))
  .filter((row) => row.getAttribute("tabindex") !== "-1" || !row.dataset.rowId
    || (row.querySelector("a[href]") && !row.querySelector("a[data-open]")))
  .map((row) => row.outerHTML.slice(0, 160))"""


def rows_off_contract(page: Page) -> list[str]:
    """The rows ``j``/``k`` move over that lack what the keyboard needs: ``tabindex="-1"``, a
    ``data-row-id``, and, in a row with links, its main link marked ``data-open`` (what Enter
    opens; a row of something without a page of its own, a milestone say, has none)."""
    rows: list[str] = page.evaluate(_ROWS_OFF_CONTRACT)
    return rows


def navigation_timing(page: Page) -> dict[str, float]:
    """The page's navigation timing, in ms: until the response ended, and until loaded."""
    timing: dict[str, float] = page.evaluate(_TIMING)
    return timing


def one_heading(page: Page) -> str:
    """The text of the page's one ``<h1>``."""
    headings = page.locator("h1")
    assert headings.count() == 1, f"{page.url} has {headings.count()} h1 elements"
    text = " ".join(headings.inner_text().split())
    assert text, f"the h1 of {page.url} is empty"
    return text
