"""The benchmark's arithmetic and its reports: percentiles, figures with their goals, and the
Markdown written to bench/results/latest.md and docs/benchmarks.md.

Pure functions on plain data (no Django), so tests/bench checks them without a database.
"""

import math
from collections.abc import Iterable, Sequence

PASS = "pass"  # noqa: S105 - a verdict, not a password
FAIL = "fail"
REPORTED = "reported"


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between the closest ranks, as
    numpy's default does; the samples need not be sorted."""
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(samples_ms: Sequence[float]) -> dict:
    """Count, p50, p95, mean, min and max of response times in milliseconds, rounded."""
    if not samples_ms:
        return {"count": 0}
    return {
        "count": len(samples_ms),
        "p50": round(percentile(samples_ms, 50), 2),
        "p95": round(percentile(samples_ms, 95), 2),
        "mean": round(sum(samples_ms) / len(samples_ms), 2),
        "min": round(min(samples_ms), 2),
        "max": round(max(samples_ms), 2),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def verdict(checks: Iterable[bool | None]) -> str:
    """pass when every check holds, fail when one does not; reported when there is no goal."""
    checks = list(checks)
    if not checks:
        return REPORTED
    if any(check is None for check in checks):
        return FAIL
    return PASS if all(checks) else FAIL


def under(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit


def latency_figure(
    what: str, real: dict, baseline: dict, *, p95_goal_ms: float, ratio_goal: float, base: str
) -> dict:
    """A page's p50/p95 beside its baseline's; the ratio is of the medians (the steadier
    figure on a shared machine), with the p95 ratio shown too."""
    p50_ratio = ratio(real.get("p50"), baseline.get("p50"))
    p95_ratio = ratio(real.get("p95"), baseline.get("p95"))
    return {
        "what": what,
        "figure": "p50 %s ms, p95 %s ms; ratio %s (p95 ratio %s) to %s: p50 %s ms, p95 %s ms (n=%s)"
        % (
            _num(real.get("p50")),
            _num(real.get("p95")),
            _num(p50_ratio),
            _num(p95_ratio),
            base,
            _num(baseline.get("p50")),
            _num(baseline.get("p95")),
            real.get("count", 0),
        ),
        "goal": "p95 under %g ms; ratio under %g" % (p95_goal_ms, ratio_goal),
        "result": verdict([under(real.get("p95"), p95_goal_ms), under(p50_ratio, ratio_goal)]),
        "data": {"real": real, "baseline": baseline, "ratio": p50_ratio, "p95_ratio": p95_ratio},
    }


def growth_verdict(points: list[dict], *, slack: float = 1.5) -> bool | None:
    """Close to linear: from the smallest subject, each larger one takes no more than `slack`
    times its share of the time (16x the records in at most 24x the time)."""
    done = [p for p in points if p.get("seconds")]
    if len(done) < 2 or len(done) != len(points):
        return None
    first = done[0]
    return all(
        p["seconds"] / first["seconds"] <= slack * p["scale"] / first["scale"] for p in done[1:]
    )


def _num(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "%.2f" % value if abs(value) < 100 else "%.0f" % value
    return str(value)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(results: dict) -> str:
    """The figures as a Markdown table: what, figure, goal, pass/fail."""
    lines = ["| what | figure | goal | result |", "| --- | --- | --- | --- |"]
    for figure in results["figures"]:
        lines.append(
            "| %s | %s | %s | %s |"
            % (
                _cell(figure["what"]),
                _cell(figure["figure"]),
                _cell(figure["goal"]),
                _cell(figure["result"]),
            )
        )
    return "\n".join(lines) + "\n"


def _meta_lines(meta: dict) -> list[str]:
    machine = meta.get("machine", {})
    data = meta.get("data", {})
    lines = [
        "- run: %s to %s (commit %s)"
        % (meta.get("started_at", "?"), meta.get("finished_at", "?"), meta.get("commit", "?")),
        "- machine: %s, %s CPUs, %s GB memory; %s; PostgreSQL %s"
        % (
            machine.get("cpu", "?"),
            machine.get("cpus", "?"),
            machine.get("memory_gb", "?"),
            machine.get("os", "?"),
            machine.get("postgresql", "?"),
        ),
        "- data: %s (%s)%s"
        % (
            meta.get("seed", "?"),
            ", ".join("%s %s" % (v, k) for k, v in data.items()) or "?",
            ""
            if meta.get("vacuum_seconds") is None
            else "; vacuumed and analysed before measuring (%s s)" % meta["vacuum_seconds"],
        ),
        "- served by gunicorn, %s workers, on 127.0.0.1; load by locust, %s users for %s s"
        % (meta.get("workers", "?"), meta.get("users", "?"), meta.get("duration", "?")),
    ]
    for note in meta.get("notes", []):
        lines.append("- note: %s" % note)
    return lines


def results_markdown(results: dict) -> str:
    """bench/results/latest.md: the run's facts and its table."""
    lines = ["# Benchmark results", "", *_meta_lines(results["meta"]), "", ""]
    return "\n".join(lines) + markdown_table(results)


DOC_START = "<!-- figures:start (written by bench/run.py from bench/results/latest.json) -->"
DOC_END = "<!-- figures:end -->"


def docs_with_figures(document: str, results: dict) -> str:
    """docs/benchmarks.md with the block between the markers replaced by the latest figures,
    so the page always shows what the last run measured."""
    block = "\n".join([DOC_START, "", *_meta_lines(results["meta"]), "", markdown_table(results)])
    block += DOC_END
    if DOC_START in document and DOC_END in document:
        head, _, rest = document.partition(DOC_START)
        _, _, tail = rest.partition(DOC_END)
        return head + block + tail
    return document.rstrip("\n") + "\n\n" + block + "\n"
