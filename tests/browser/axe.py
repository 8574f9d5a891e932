"""axe-core checks for the browser journeys.

`scan(page, name)` injects node_modules/axe-core/axe.min.js into the page and runs it against WCAG
2.0, 2.1 and 2.2 A and AA, returning the violations. `AxeAudit` does it for every page a journey
shows, with no call in the journey itself: while it is active, each Playwright action that can
leave a page (a click, check or key press, goto, reload, going back) first scans the document on
screen, once per document, so every page is checked as the person saw it however the journey left
it; whatever is on screen at the end is scanned by `finish()`. (Scanning from a route handler as
the navigation starts would be neater, but Playwright cannot evaluate in a frame whose navigation
it is holding.)
"""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

from tests.assurance import record

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
SERIOUS = frozenset({"serious", "critical"})
# Violations that come from Django's own admin, not from our templates, on /admin/ pages only.
# They are counted apart (section "accessibility_django_admin") and do not fail the journey; see
# each entry for why it is not overridden here.
DJANGO_ADMIN_KNOWN: dict[str, str] = {
    # Empty: the two there were (filter links under 24px, aria-label on a bare span in the role
    # picker) are fixed by templates/admin/base_site.html. Add one here only with the reason it
    # cannot be fixed from our side.
}
# Screenshots kept by conftest.shot(), so each audit can count its own.
SCREENSHOTS = [0]

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def scan(page, name: str | None = None) -> list[dict]:
    """The WCAG 2.x A/AA violations on the page now on screen, each with its rule id, impact,
    help text and the selectors of the elements at fault."""
    if not AXE_JS.exists():
        raise RuntimeError("%s is missing: run `make deps`." % AXE_JS)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Not add_script_tag: our Content-Security-Policy (script-src 'self') rightly blocks an
        # inline script, and the journeys keep the real policy rather than bypass it. Evaluating
        # the source through the DevTools protocol is not subject to the page's policy.
        page.evaluate("(source) => { (0, eval)(source); }", AXE_JS.read_text())
    return page.evaluate(RUN_AXE, WCAG_TAGS)


@dataclass
class PageScan:
    name: str
    url: str
    violations: list[dict]

    def from_django_admin(self, violation: dict) -> bool:
        return urlsplit(self.url).path.startswith("/admin/") and (
            violation["id"] in DJANGO_ADMIN_KNOWN
        )

    @property
    def ours(self) -> list[dict]:
        return [v for v in self.violations if not self.from_django_admin(v)]

    @property
    def django_admin(self) -> list[dict]:
        return [v for v in self.violations if self.from_django_admin(v)]

    @property
    def serious(self) -> list[dict]:
        return [v for v in self.ours if v["impact"] in SERIOUS]

    @property
    def lesser(self) -> list[dict]:
        return [v for v in self.ours if v["impact"] not in SERIOUS]


@dataclass
class AxeAudit:
    """Every page scanned during one test, from every browser context it watches."""

    test_name: str
    scans: list[PageScan] = field(default_factory=list)
    contexts: list = field(default_factory=list)
    finished: bool = False
    screenshots_before: int = field(default_factory=lambda: SCREENSHOTS[0])

    def watch(self, context) -> None:
        self.contexts.append(context)

    def activate(self, monkeypatch) -> None:
        """Scan before every action that can leave the page, on pages of watched contexts."""
        from playwright.sync_api import Keyboard, Locator, Page

        audit = self

        def before(method, page_of):
            def wrapped(self, *args, **kwargs):
                page = page_of(self)
                if page is not None and page.context in audit.contexts:
                    audit.scan(page)
                return method(self, *args, **kwargs)

            return wrapped

        for name in ("click", "check", "press", "set_checked", "select_option"):
            monkeypatch.setattr(Locator, name, before(getattr(Locator, name), lambda x: x.page))
        for name in ("goto", "reload", "go_back"):
            monkeypatch.setattr(Page, name, before(getattr(Page, name), lambda x: x))
        monkeypatch.setattr(Keyboard, "press", before(Keyboard.press, self._page_of_keyboard))

    def _page_of_keyboard(self, keyboard):
        for context in self.contexts:
            for page in context.pages:
                if page.keyboard is keyboard:
                    return page
        return None

    def scan(self, page, name: str | None = None) -> PageScan | None:
        """Scan the page on screen unless this document was scanned already."""
        for attempt in range(3):
            try:
                return self._scan(page, name)
            except PlaywrightError as error:
                # A navigation the last action started (a key press submitting a form) replaced
                # the document mid-scan: scan the new one once it has loaded.
                if "context was destroyed" not in str(error) or attempt == 2:
                    raise
                page.wait_for_timeout(200)
        return None

    def _scan(self, page, name: str | None) -> PageScan | None:
        if self.finished or page.is_closed() or not page.url.startswith("http"):
            return None
        page.wait_for_load_state()
        # The mark lives on the document's window, so it goes when the document does.
        if page.evaluate("() => window.__tmoAxeScanned === true"):
            return None
        violations = scan(page)
        page.evaluate("() => { window.__tmoAxeScanned = true; }")
        result = PageScan(name=name or page.title(), url=page.url, violations=violations)
        self.scans.append(result)
        return result

    def scan_open_pages(self) -> None:
        for context in self.contexts:
            for page in context.pages:
                self.scan(page)

    def report(self) -> str:
        lines = []
        for page_scan in self.scans:
            for violation in page_scan.violations:
                lines.append(
                    "%s%s [%s] %s (%s): %s"
                    % (
                        "(Django admin's own) " if page_scan.from_django_admin(violation) else "",
                        page_scan.url,
                        violation["impact"],
                        violation["id"],
                        violation["help"],
                        ", ".join(violation["targets"][:5]),
                    )
                )
        return "\n".join(lines)

    def finish(self, *, journeys: int = 1, keyboard_journeys: int = 0):
        """Scan what is left on screen, record the figures, and fail on any serious or critical
        violation (moderate and minor ones are counted and reported, not failed)."""
        self.scan_open_pages()
        self.finished = True
        serious = [v for s in self.scans for v in s.serious]
        lesser = [v for s in self.scans for v in s.lesser]
        django_admin = [v for s in self.scans for v in s.django_admin]
        record(
            "accessibility",
            pages_scanned=len(self.scans),
            serious_or_critical=len(serious),
            moderate_or_minor=len(lesser),
            journeys=journeys,
            screenshots=SCREENSHOTS[0] - self.screenshots_before,
            keyboard_journeys=keyboard_journeys,
        )
        if django_admin:
            record(
                "accessibility_django_admin",
                serious_or_critical=len([v for v in django_admin if v["impact"] in SERIOUS]),
                moderate_or_minor=len([v for v in django_admin if v["impact"] not in SERIOUS]),
            )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / ("axe-%s.txt" % self.test_name)).write_text(
            "Pages scanned:\n%s\n\nViolations:\n%s\n"
            % ("\n".join("%s  %s" % (s.url, s.name) for s in self.scans), self.report())
        )
        assert self.scans, "No page was scanned."
        assert not serious, "Serious or critical accessibility problems:\n" + self.report()
