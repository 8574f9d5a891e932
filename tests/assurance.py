"""Figures the assurance tests count, for docs/assurance.md.

Tests call `record()` with what they covered and what they found, before they assert, so a failing
run still reports its figures. Nothing is written unless `make assurance` sets TMO_ASSURANCE_DIR:
an everyday `make test` leaves no files behind. Whole numbers add up across calls (one call per
parametrized case is fine); anything else is kept as last written.
"""

import json
import os
from pathlib import Path

DIR_ENV = "TMO_ASSURANCE_DIR"


def record(section: str, **figures: int | str) -> None:
    directory = os.environ.get(DIR_ENV)
    if not directory:
        return
    path = Path(directory) / (section + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else {}
    for key, value in figures.items():
        if isinstance(value, int) and isinstance(existing.get(key), int):
            existing[key] += value
        else:
            existing[key] = value
    path.write_text(json.dumps(existing, indent=2, sort_keys=True))


# --- the document ------------------------------------------------------------------------------
# section -> (heading, [(key, what it counts, goal or "")]); a goal of 0 is checked.
SECTIONS = {
    "leaks": (
        "Leak hunting",
        [
            ("url_patterns", "URL patterns swept", ""),
            ("roles", "roles (each signed in as one user, plus anonymous)", ""),
            ("ownership_cases", "ownership cases per object kind", ""),
            ("requests", "requests made", ""),
            ("canaries_planted", "canaries planted", ""),
            ("canaries_found", "canaries found outside the user's scope or in logs", 0),
            ("log_records_scanned", "log records scanned", ""),
            ("pages_header_checked", "responses checked for security headers", ""),
            ("header_failures", "responses missing a header or cookie flag", 0),
            ("csrf_posts_refused", "POSTs without a CSRF token refused", ""),
        ],
    ),
    "fuzz": (
        "Hostile input",
        [
            ("endpoints", "forms and POST endpoints driven", ""),
            ("examples", "generated examples submitted", ""),
            ("server_errors", "server errors", 0),
            ("unclear_rejections", "rejections without a clear message", 0),
            ("half_written", "rejected submissions that changed stored data", 0),
        ],
    ),
    "faults": (
        "Faults",
        [
            ("scenarios", "fault scenarios run", ""),
            ("injection_points", "points at which the database was dropped", ""),
            ("partial_states", "partial states found", 0),
            ("retries_completed_once", "steps retried after the fault and completed once", ""),
        ],
    ),
    "accessibility": (
        "Accessibility",
        [
            ("journeys", "browser journeys", ""),
            ("keyboard_journeys", "journeys completed with the keyboard only", ""),
            ("pages_scanned", "pages scanned with axe-core", ""),
            ("serious_or_critical", "serious or critical violations", 0),
            ("moderate_or_minor", "moderate or minor violations", ""),
            ("screenshots", "screenshots saved in test-artifacts/", ""),
        ],
    ),
}


def _test_outcome(junit: Path) -> str:
    import xml.etree.ElementTree as ElementTree

    if not junit.exists():
        return "the tests did not run"
    # Written a moment ago by our own pytest run, not input from outside.
    suite = ElementTree.parse(junit).getroot()  # noqa: S314
    if suite.tag == "testsuites":
        suite = suite[0]
    total, failed, errors, skipped = (
        int(suite.get(name, 0)) for name in ("tests", "failures", "errors", "skipped")
    )
    return "%d tests: %d passed, %d failed, %d errors, %d skipped" % (
        total,
        total - failed - errors - skipped,
        failed,
        errors,
        skipped,
    )


def render(directory: Path) -> str:
    import datetime
    import platform

    commit = os.environ.get("TMO_ASSURANCE_COMMIT", "")
    database = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    )
    lines = [
        "# Assurance figures",
        "",
        "Written by `make assurance` from what the tests marked `assurance` counted; do not edit by",
        "hand. Each figure with a goal of 0 fails its test when it is not 0.",
        "",
        "- Run: %s UTC, commit %s, %s, Python %s, %s."
        % (
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
            commit or "unknown",
            database,
            platform.python_version(),
            platform.platform(),
        ),
        "- Outcome: %s." % _test_outcome(directory / "junit.xml"),
        "",
    ]
    missing = []
    for section, (heading, rows) in SECTIONS.items():
        path = directory / (section + ".json")
        figures = json.loads(path.read_text()) if path.exists() else {}
        lines += ["## " + heading, "", "| what | figure | goal |", "| --- | ---: | --- |"]
        for key, label, goal in rows:
            value = figures.get(key)
            if value is None:
                missing.append("%s.%s" % (section, key))
                shown = "not measured"
            else:
                shown = f"{value:,}" if isinstance(value, int) else str(value)
            if goal == "":
                verdict = ""
            elif value is None:
                verdict = "%s: not measured" % goal
            elif value == goal:
                verdict = "%s: met" % goal
            else:
                verdict = "%s: **missed**" % goal
            lines.append("| %s | %s | %s |" % (label, shown, verdict))
        lines.append("")
    if missing:
        lines += ["Not measured in this run: " + ", ".join(missing) + ".", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    directory, output = Path(argv[0]), Path(argv[1])
    output.write_text(render(directory))
    print("Wrote %s" % output)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
