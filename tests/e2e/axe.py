"""axe-core in the page under test: the accessibility rules a screen-reader or keyboard user relies on.

axe-core comes from the npm registry (package.json, installed by `make test`). It runs inside the
page, so it sees the page as the browser laid it out: contrast, target sizes, names of controls.
"""

from __future__ import annotations

from playwright.sync_api import Page

from tests.servers import BASE_DIR

AXE_SCRIPT = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA, the level a public body's pages are held to, plus axe's best practices.
DEFAULT_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")


def axe_violations(page: Page, *, tags: tuple[str, ...] = DEFAULT_TAGS, exclude: tuple[str, ...] = ()) -> list[dict]:
    """Return axe's violations on the page as it is now: rule id, impact, and the nodes that break it."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run `make test` (it installs axe-core with npm)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated rather than added as a <script>: a Content-Security-Policy on the page cannot refuse it.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async ([tags, exclude]) => {
            const context = exclude.length ? {exclude: exclude.map((selector) => [selector])} : document;
            const outcome = await window.axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return outcome.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }""",
        [list(tags), list(exclude)],
    )
    return result


def describe(violations: list[dict]) -> str:
    """Return the violations as lines a failing assertion can print."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}: {node['summary']}" for node in violation["nodes"][:8])
    return "\n".join(lines)
