"""`make bench`: measure the pages, the bundle, the audit check and the load, each beside its
baseline in the same run, and write bench/results/latest.{json,md} and docs/benchmarks.md.

Run by bench/run.sh after it has started PostgreSQL (unless DATABASE_URL is set), migrated and
seeded; needs DJANGO_SETTINGS_MODULE=tmo.settings.bench and the secrets run.sh exports. Every
loop here is bounded by a count and by a time limit (BENCH_SAMPLES, BENCH_PHASE_SECONDS).
"""

import datetime
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
WORK = Path(os.environ.get("BENCH_WORK_DIR", ROOT / "var" / "bench"))


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


USERS = env_int("BENCH_USERS_COUNT", 50)
DURATION = env_int("BENCH_DURATION", 60)
SAMPLES = env_int("BENCH_SAMPLES", 200)
PHASE_SECONDS = env_float("BENCH_PHASE_SECONDS", 90)
WORKERS = env_int("BENCH_WORKERS", 2 * (os.cpu_count() or 1))
BUNDLE_BASE = env_float("BENCH_BUNDLE_BASE", 1.0)
BUNDLE_SCALES = [int(s) for s in os.environ.get("BENCH_BUNDLE_SCALES", "1,4,16").split(",")]
SIGN_IN_ALLOWANCE = env_int("BENCH_SIGN_IN_ALLOWANCE", 180)
# The whole child: collection, the handler's review (34,000 item decisions at 16x, not part of
# the figure) and the build.
BUNDLE_TIMEOUT = env_float("BENCH_BUNDLE_TIMEOUT", 1200)
VERIFY_TIMEOUT = env_float("BENCH_VERIFY_TIMEOUT", 600)


def log(message: str, *args) -> None:
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), message % args))
    sys.stderr.flush()


# --- the machine -------------------------------------------------------------------------------


def machine() -> dict:
    from django.db import connection

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": os_name,
        "python": platform.python_version(),
        "postgresql": postgresql,
    }


def settle_database() -> float | None:
    """VACUUM (ANALYZE) on PostgreSQL, as a live database's autovacuum keeps it: after a bulk
    seed, autovacuum's catch-up (a million new rows) would otherwise run during the first
    measurements. Returns the seconds it took; None elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    log("vacuuming and analysing the database before measuring")
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return round(time.monotonic() - started, 1)


def data_counts() -> dict:
    from auditlog.models import LogEntry

    from disclosures.models import DisclosureRequest
    from records.models import ContactRecord, Document, Person, Property, Tenancy
    from sar.models import SubjectAccessRequest

    return {
        "homes": Property.objects.count(),
        "people": Person.objects.count(),
        "tenancies": Tenancy.objects.count(),
        "contact records": ContactRecord.objects.count(),
        "documents": Document.objects.count(),
        "disclosure requests": DisclosureRequest.objects.count(),
        "rights requests": SubjectAccessRequest.objects.count(),
        "audit entries": LogEntry.objects.count(),
    }


def commit() -> str:
    try:
        return subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# --- set-up --------------------------------------------------------------------------------------


def prepare() -> dict:
    from access.roles import Role
    from bench import setup

    log("creating bench staff accounts")
    officer = setup.staff_accounts("bench-officer", 1)[0]
    load = setup.staff_accounts("bench-load", USERS)
    bare = setup.staff_accounts("bench-bare", USERS)
    handler = setup.staff_accounts("bench-handler", 1, Role.SENIOR_OFFICER)[0]
    signer = setup.staff_accounts("bench-signer", 1, Role.DATA_PROTECTION_LEAD)[0]
    officer.update(setup.officer_targets(officer["id"]))
    for account in load + bare:
        account.update(setup.officer_targets(account["id"], people=30, terms=5))
    return {
        "officer": officer,
        "load": load,
        "bare": bare,
        "handler": handler,
        "signer": signer,
    }


def seed_scale_subject(scale: float):
    """seed_scale's own heavy subject and its open access request, where seed_scale made this
    database; None otherwise (then bench/setup.py writes one)."""
    if scale < 1 or not float(scale).is_integer():
        return None
    try:
        from records.scale import make_heavy_subject
    except ImportError:
        return None
    from sar.models import SubjectAccessRequest

    try:
        person = make_heavy_subject(int(scale))
    except ValueError as error:  # not a seed_scale database
        # Said aloud: a silent fallback once hid that seed_scale's subject was never used.
        log(
            "seed_scale's heavy subject is not available here (%s); bench/setup.py writes one",
            error,
        )
        return None
    return SubjectAccessRequest.objects.filter(person=person, kind="access").order_by("-pk").first()


def heavy_subjects(accounts: dict) -> dict:
    """A light and a heavy subject built alike, for the detail-page query counts, and one subject
    per bundle scale (seed_scale's where it can make them)."""
    from django.contrib.auth import get_user_model

    from bench import setup

    users = get_user_model().objects
    officer = users.get(pk=accounts["officer"]["id"])
    patch = officer.patches.first()
    handler = users.get(pk=accounts["handler"]["id"])
    signer = users.get(pk=accounts["signer"]["id"])
    # References hold 20 characters: "BD-" + this + the subject's name + a number must fit.
    tag = "%x" % int(time.time())

    def bench_subject(name, scale):
        log("writing subject %s (%.2fx the heavy subject)", name, scale)
        return setup.heavy_subject(
            tag="%s%s" % (tag, name), scale=scale, patch=patch, logged_by=handler, decided_by=signer
        )

    subjects = {"light": bench_subject("l", 0.05), "heavy": bench_subject("h", 1)}
    subjects["builder"] = "bench/setup.py"
    for scale in BUNDLE_SCALES:
        name, factor = "x%d" % scale, scale * BUNDLE_BASE
        log("making the bundle subject at %gx", factor)
        request = seed_scale_subject(factor)
        if request is not None:
            subjects["builder"] = "records.scale.make_heavy_subject (seed_scale)"
        subjects[name] = request or bench_subject(name, factor)
    return subjects


# --- serving ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn on loopback with the bench settings; stopped on exit whatever happens."""

    def __init__(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(WORK / "gunicorn.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "tmo.wsgi:application",
                "--bind",
                "127.0.0.1:%d" % self.port,
                "--workers",
                str(WORKERS),
                "--timeout",
                "120",
                "--error-logfile",
                "-",
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, seconds: float = 60) -> None:
        import requests

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped; see %s" % self.log.name)
            try:
                if requests.get(self.url + "/bench/bare/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within %d s" % seconds)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- latency, each page beside its baseline ---------------------------------------------------


def paired_latency(session, base: str, pairs: list[tuple[str, str]]) -> tuple[dict, dict, int]:
    """Request each (real, baseline) pair in turn, alternating which goes first, so that noise
    falls on both alike. Bounded by SAMPLES pairs and PHASE_SECONDS. Returns the two
    summaries and the number of failed requests."""
    from bench.stats import summarise

    real, baseline, failures = [], [], 0
    # Warm both paths in every gunicorn worker (each compiles its templates and opens its
    # connection on its first request): cold workers are start-up, not the page's steady time.
    for pair in pairs:
        for url in pair * WORKERS:
            session.get(base + url)
    deadline = time.monotonic() + PHASE_SECONDS
    for number in range(SAMPLES):
        if time.monotonic() > deadline:
            break
        real_url, base_url = pairs[number % len(pairs)]
        order = [(real_url, real), (base_url, baseline)]
        if number % 2:
            order.reverse()
        for url, samples in order:
            started = time.perf_counter()
            response = session.get(base + url)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or "/sign-in/" in response.url:
                failures += 1
                continue
            samples.append(elapsed)
    return summarise(real), summarise(baseline), failures


def latency(server: Server, accounts: dict) -> list[dict]:
    import requests

    from bench.client import sign_in
    from bench.stats import latency_figure

    officer = accounts["officer"]
    session = requests.Session()
    sign_in(
        session,
        server.url,
        username=officer["username"],
        password=officer["password"],
        key_hex=officer["key"],
    )
    figures = []
    log("search latency: %d pairs at most", SAMPLES)
    pairs = [("/people/?q=%s" % t, "/bench/people/?q=%s" % t) for t in officer["terms"]]
    real, base, failures = paired_latency(session, server.url, pairs)
    figure = latency_figure(
        "people search scoped by policy, page of 25",
        real,
        base,
        p95_goal_ms=100,
        ratio_goal=1.5,
        base="the same search without the policy",
    )
    figure["data"]["failures"] = failures
    figure["data"]["terms"] = len(officer["terms"])
    figures.append(figure)
    log("person page latency: %d pairs at most", SAMPLES)
    people = officer["person_ids"]
    pairs = [("/people/%d/" % pk, "/bench/people/%d/unguarded/" % pk) for pk in people]
    real, base, failures = paired_latency(session, server.url, pairs)
    figure = latency_figure(
        "person page with decryption and access audit",
        real,
        base,
        p95_goal_ms=150,
        ratio_goal=1.5,
        base="the same page without the policy or the access audit (decryption kept)",
    )
    # Beside it, as before: a page of the person's own row alone, which shows far less than the
    # person page (none of the linked lists), so its ratio measures the page's content too.
    log("plain row page latency: %d pairs at most", SAMPLES)
    pairs = [("/people/%d/" % pk, "/bench/people/%d/" % pk) for pk in people]
    _, plain, plain_failures = paired_latency(session, server.url, pairs)
    figure["figure"] += "; a plain page of the row alone: p50 %s ms, p95 %s ms" % (
        plain.get("p50"),
        plain.get("p95"),
    )
    figure["data"].update(failures=failures + plain_failures, plain_row=plain)
    figures.append(figure)
    return figures


# --- in-process: database time share and query counts ----------------------------------------


def signed_in_client(user_id: int):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(pk=user_id)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


class Recorder:
    """Every statement a request runs, with its parameters and time (connection.execute_wrapper)."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, many, time.perf_counter() - started))


class DecryptCounter:
    """How many values a request decrypts (tmo.crypto.decrypt_bytes), for the query-count table."""

    def __init__(self):
        from tmo import crypto

        self.crypto = crypto
        self.original = crypto.decrypt_bytes
        self.count = 0

    def __enter__(self):
        def counted(*args, **kwargs):
            self.count += 1
            return self.original(*args, **kwargs)

        self.crypto.decrypt_bytes = counted
        return self

    def __exit__(self, *exc):
        self.crypto.decrypt_bytes = self.original


def replay_seconds(statements) -> tuple[float, int]:
    """Run the request's reads again straight on a cursor: the database's share, without Django.
    Writes (the access audit) are not repeated; their count is returned."""
    from django.db import connection

    total, writes = 0.0, 0
    with connection.cursor() as cursor:
        for sql, params, many, _ in statements:
            if many or not sql.lstrip().upper().startswith("SELECT"):
                writes += 1
                continue
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            total += time.perf_counter() - started
    return total, writes


def database_share(accounts: dict) -> dict:
    from django.db import connection

    from bench.stats import REPORTED, ratio, summarise

    officer = accounts["officer"]
    client = signed_in_client(officer["id"])
    pages = {
        "search": ["/people/?q=%s" % t for t in officer["terms"]],
        "person": ["/people/%d/" % pk for pk in officer["person_ids"]],
    }
    data = {}
    deadline = time.monotonic() + PHASE_SECONDS
    for name, urls in pages.items():
        client.get(urls[0])
        view, inside, raw, statements, writes = [], [], [], [], 0
        for number in range(min(SAMPLES, 50)):
            if time.monotonic() > deadline:
                break
            recorder = Recorder()
            with connection.execute_wrapper(recorder):
                started = time.perf_counter()
                response = client.get(urls[number % len(urls)])
                view.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError("%s answered %s" % (urls[0], response.status_code))
            inside.append(sum(s[3] for s in recorder.statements) * 1000)
            seconds, writes = replay_seconds(recorder.statements)
            raw.append(seconds * 1000)
            statements.append(len(recorder.statements))
        view_s, inside_s, raw_s = summarise(view), summarise(inside), summarise(raw)
        data[name] = {
            "view_ms": view_s,
            "sql_in_view_ms": inside_s,
            "raw_sql_ms": raw_s,
            "statements": max(statements) if statements else 0,
            "writes_not_replayed": writes,
            "ratio": ratio(view_s.get("p50"), raw_s.get("p50")),
        }
    text = "; ".join(
        "%s: view p50 %.1f ms, SQL inside it %.1f ms, the same reads raw %.1f ms, ratio %s "
        "(%d statements)"
        % (
            name,
            d["view_ms"].get("p50", 0),
            d["sql_in_view_ms"].get("p50", 0),
            d["raw_sql_ms"].get("p50", 0),
            d["ratio"],
            d["statements"],
        )
        for name, d in data.items()
    )
    return {
        "what": "database time share",
        "figure": text,
        "goal": "reported",
        "result": REPORTED,
        "data": data,
    }


def query_counts(accounts: dict, subjects: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.stats import verdict
    from records.views import common

    officer = accounts["officer"]
    term = officer["terms"][0]
    housing = signed_in_client(officer["id"])
    dpo = signed_in_client(accounts["signer"]["id"])
    light, heavy = subjects["light"].person, subjects["heavy"].person
    light_tenancy = light.household_memberships.first().tenancy_id
    heavy_tenancy = heavy.household_memberships.first().tenancy_id

    def count(client, url) -> tuple[int, int]:
        with DecryptCounter() as decrypts, CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError("%s answered %s" % (url, response.status_code))
        return len(queries), decrypts.count

    rows = []
    lists = [
        ("people search", housing, "/people/?q=%s" % term),
        ("people due to re-confirm", housing, reverse("reconfirmation_list")),
        ("tenancies", housing, reverse("tenancy_list")),
        ("person timeline (heavy subject)", housing, reverse("person_timeline", args=[heavy.pk])),
        ("rights request register", dpo, reverse("sar_register")),
        ("disclosure register", dpo, reverse("disclosure_register")),
    ]
    original = common.PAGE_SIZE
    try:
        for name, client, url in lists:
            client.get(url)
            measured = []
            for size in (10, 50):
                common.PAGE_SIZE = size
                measured.append(count(client, url))
            rows.append(
                {
                    "page": name,
                    "kind": "list",
                    "sizes": "10 / 50 rows",
                    "queries": [m[0] for m in measured],
                    "decrypts": [m[1] for m in measured],
                }
            )
    finally:
        common.PAGE_SIZE = original
    details = [
        ("person page", "/people/%d/", light.pk, heavy.pk),
        ("tenancy page", "/tenancies/%d/", light_tenancy, heavy_tenancy),
    ]
    for name, pattern, small, large in details:
        housing.get(pattern % small)
        measured = [count(housing, pattern % small), count(housing, pattern % large)]
        rows.append(
            {
                "page": name,
                "kind": "detail",
                "sizes": "a subject with 100 / 2,000 contacts, 5 / 100 documents",
                "queries": [m[0] for m in measured],
                "decrypts": [m[1] for m in measured],
            }
        )
    constant = [row["queries"][0] == row["queries"][1] for row in rows]
    growing = [row["page"] for row in rows if row["queries"][0] != row["queries"][1]]
    text = "; ".join(
        "%s %s queries (%s decryptions)"
        % (row["page"], "/".join(map(str, row["queries"])), "/".join(map(str, row["decrypts"])))
        for row in rows
    )
    if growing:
        text += ". Grows with the page: %s" % ", ".join(growing)
    return {
        "what": "query count per list and detail page (small / large page)",
        "figure": text,
        "goal": "constant in page size",
        "result": verdict(constant),
        "data": {"pages": rows},
    }


def audit_verification() -> dict:
    from bench.stats import under, verdict

    log("verifying the audit chain (timeout %d s)", VERIFY_TIMEOUT)
    try:
        finished = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.verify"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=VERIFY_TIMEOUT,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {
            "what": "audit verification",
            "figure": "did not finish within %d s" % VERIFY_TIMEOUT,
            "goal": "over 50,000 entries per second",
            "result": "fail",
            "data": {"timed_out": True},
        }
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    seconds = result["seconds"]
    rate = round(result["entries"] / seconds) if seconds else None
    return {
        "what": "audit verification",
        "figure": "%s entries per second (%d entries in %.1f s, chain %s)"
        % (
            rate,
            result["entries"],
            seconds,
            "intact" if result["ok"] else "BROKEN: " + result["message"],
        ),
        "goal": "over 50,000 entries per second",
        "result": verdict([result["ok"], None if rate is None else not under(rate, 50000)]),
        "data": {"entries": result["entries"], "seconds": round(seconds, 2), "rate": rate},
    }


# --- the load test ------------------------------------------------------------------------------


def locust_run(server: Server, accounts: list[dict], user_class: str, label: str) -> dict:
    users_file = WORK / ("locust-%s-users.json" % label)
    users_file.write_text(json.dumps(accounts))
    users_file.chmod(0o600)
    out = WORK / ("locust-%s.json" % label)
    out.unlink(missing_ok=True)
    env = dict(
        os.environ,
        BENCH_USERS=str(users_file),
        BENCH_LOCUST_OUT=str(out),
        BENCH_LOCUST_USERS=str(USERS),
        BENCH_DURATION=str(DURATION),
    )
    env["PYTHONPATH"] = str(ROOT)
    log("locust %s: %d users for %d s", label, USERS, DURATION)
    with open(WORK / ("locust-%s.log" % label), "w") as locust_log:
        subprocess.run(  # noqa: S603
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(USERS),
                "--spawn-rate",
                str(max(1, USERS // 5)),
                # The outer bound: signing everyone in, then BENCH_DURATION of browsing.
                "--run-time",
                "%ds" % (DURATION + SIGN_IN_ALLOWANCE),
                "--stop-timeout",
                "10",
                "--host",
                server.url,
                "--only-summary",
                "--loglevel",
                "WARNING",
                user_class,
            ],
            cwd=ROOT,
            env=env,
            stdout=locust_log,
            stderr=subprocess.STDOUT,
            timeout=DURATION + SIGN_IN_ALLOWANCE + 60,
            check=False,
        )
    users_file.unlink(missing_ok=True)
    if not out.exists():
        raise RuntimeError("locust wrote no summary; see %s" % (WORK / ("locust-%s.log" % label)))
    return json.loads(out.read_text())


def load(server: Server, accounts: dict) -> dict:
    from bench.stats import ratio, under, verdict

    browse = locust_run(server, accounts["load"], "StaffUser", "staff")
    bare = locust_run(server, accounts["bare"], "BareUser", "bare")
    errors = browse["failures"] + browse["sign_in_failures"]
    if browse["window_s"] is None:
        errors += 1  # never got everyone signed in: no measured window at all
    return {
        "what": "load: %d concurrent staff users for %d s over loopback" % (USERS, DURATION),
        "figure": "%s requests/s, p95 %s ms, %d errors (%d requests after %d sign-ins, each "
        "p50 %s s); bare page in the same run: %s requests/s, p95 %s ms; p95 ratio %s"
        % (
            browse["rps"],
            browse["p95"],
            errors,
            browse["requests"],
            browse["sign_ins"],
            browse["sign_in_p50_s"],
            bare["rps"],
            bare["p95"],
            ratio(browse["p95"], bare["p95"]),
        ),
        "goal": "0 errors, p95 under 300 ms",
        "result": verdict([errors == 0, under(browse["p95"], 300)]),
        "data": {
            "browse": browse,
            "bare": bare,
            "p95_ratio": ratio(browse["p95"], bare["p95"]),
            "rps_ratio": ratio(browse["rps"], bare["rps"]),
            "think_time_s": [
                env_float("BENCH_WAIT_MIN", 1),
                env_float("BENCH_WAIT_MAX", 2),
            ],
        },
    }


# --- the bundle ------------------------------------------------------------------------------------


def bundle_child(request_id: int, accounts: dict) -> dict:
    """Build one bundle in a child process; its peak memory from wait4's rusage."""
    errors = open(WORK / "bundle.log", "a")  # noqa: SIM115 - closed once the child has ended
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench.bundle",
            str(request_id),
            str(accounts["handler"]["id"]),
            str(accounts["signer"]["id"]),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=errors,
        # Its own process group, so that a timeout stops its PDF layout workers too: left
        # running, they would take the CPU from the phases after it.
        start_new_session=True,
    )
    started = time.monotonic()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > BUNDLE_TIMEOUT:
            os.killpg(process.pid, signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            timed_out = True
            break
        time.sleep(0.2)
    errors.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    lines = [json.loads(line) for line in process.stdout.read().decode().splitlines() if line]
    process.stdout.close()
    steps = {line["step"]: line["seconds"] for line in lines if "step" in line}
    final = next((line["result"] for line in lines if "result" in line), None)
    # ru_maxrss is in kilobytes on Linux.
    common = {"child_maxrss_mb": round(usage.ru_maxrss / 1024, 1), "process_seconds": round(wall)}
    if final is None:
        return {
            **common,
            "timed_out": timed_out,
            "failed": not timed_out,
            "exit": process.returncode,
            "steps": steps,
            "seconds": None,
            "items": next((line["items"] for line in lines if "items" in line), None),
        }
    final.update(common)
    final["seconds"] = round(final["steps"]["collect"] + final["steps"]["build"], 2)
    return final


def bundles(accounts: dict, subjects: dict) -> list[dict]:
    from bench.stats import growth_verdict, ratio, under, verdict

    points = []
    for scale in BUNDLE_SCALES:
        log("bundle at %dx (timeout %d s)", scale, BUNDLE_TIMEOUT)
        result = bundle_child(subjects["x%d" % scale].pk, accounts)
        result["scale"] = scale
        points.append(result)
        log("bundle at %dx: %s", scale, json.dumps(result))
        if result.get("seconds") is None:
            break  # a larger one would only take longer
    first = points[0]
    # The build process with its layout workers at once, where bench/bundle.py could sample it.
    memory = max(
        (
            value
            for value in (first.get("child_maxrss_mb"), first.get("peak_total_rss_mb"))
            if value
        ),
        default=None,
    )
    if first.get("seconds") is None:
        stopped = "timed out after %s s" % BUNDLE_TIMEOUT if first.get("timed_out") else "failed"
        summary = "%s, with %s (peak memory %s MB by then)" % (
            stopped,
            ", ".join("%s done in %s s" % step for step in first.get("steps", {}).items())
            or "collection unfinished",
            memory,
        )
    else:
        summary = None
    heavy = {
        "what": "bundle for a heavy subject (%s contact records, %s documents, %s disclosures)"
        % (
            int(2000 * BUNDLE_BASE * BUNDLE_SCALES[0]),
            int(100 * BUNDLE_BASE * BUNDLE_SCALES[0]),
            int(20 * BUNDLE_BASE * BUNDLE_SCALES[0]),
        ),
        "figure": "%s s (collect %s s, build %s s; %s items, %s MB zip); peak memory %s MB "
        "(the build process and its %s PDF layout workers at once); "
        "the handler's review through the services took %s s more"
        % (
            first.get("seconds"),
            first.get("steps", {}).get("collect"),
            first.get("steps", {}).get("build"),
            first.get("items"),
            round((first.get("size_bytes") or 0) / 1e6, 1),
            memory,
            first.get("pdf_layout_workers"),
            first.get("steps", {}).get("review"),
        ),
        "goal": "under 15 s, under 400 MB",
        "result": verdict([under(first.get("seconds"), 15), under(memory, 400)]),
        **({"figure": summary} if summary else {}),
        "data": first,
    }
    base = first.get("seconds")
    growth = {
        "what": "bundle growth",
        "figure": "; ".join(
            (
                "%dx: %s s (%sx the time), %s MB"
                % (p["scale"], p["seconds"], ratio(p["seconds"], base), p.get("child_maxrss_mb"))
                if p.get("seconds") is not None
                else "%dx: did not finish (%s MB by then)" % (p["scale"], p.get("child_maxrss_mb"))
            )
            for p in points
        ),
        "goal": "close to linear (each at most 1.5x its share of the 1x time)",
        "result": verdict([growth_verdict(points)]) if len(BUNDLE_SCALES) > 1 else "reported",
        "data": {"points": points},
    }
    return [heavy, growth]


# --- the report --------------------------------------------------------------------------------


def write(results: dict) -> None:
    from bench.stats import docs_with_figures, results_markdown

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(results_markdown(results))
    document = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    DOCS.write_text(docs_with_figures(document, results))
    log("wrote %s, %s and %s", RESULTS / "latest.json", RESULTS / "latest.md", DOCS)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmo.settings.bench")
    django.setup()
    WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    accounts = prepare()
    subjects = heavy_subjects(accounts)
    meta = {
        "started_at": started.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": machine(),
        "seed": os.environ.get("BENCH_SEED", "unknown"),
        "workers": WORKERS,
        "users": USERS,
        "duration": DURATION,
        "samples": SAMPLES,
        "bundle_base": BUNDLE_BASE,
        "notes": [],
    }
    meta["bundle_subjects"] = subjects["builder"]
    meta["vacuum_seconds"] = settle_database()
    figures = []
    server = Server()
    try:
        server.wait()
        figures += latency(server, accounts)
        figures.append(database_share(accounts))
        figures.append(query_counts(accounts, subjects))
        figures.append(load(server, accounts))
    finally:
        server.stop()
    figures += bundles(accounts, subjects)
    figures.append(audit_verification())
    # Children's rusage, for the record: the largest of gunicorn, locust and the bundle builds.
    meta["children_maxrss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    meta["data"] = data_counts()
    meta["finished_at"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if BUNDLE_BASE != 1.0:
        meta["notes"].append(
            "quick run: the bundle subject is %gx the issue's heavy subject" % BUNDLE_BASE
        )
    results = {"meta": meta, "figures": figures}
    write(results)
    failed = [f["what"] for f in results["figures"] if f["result"] == "fail"]
    log("done: %d figures, %d below their goal", len(figures), len(failed))
    sys.stdout.write((RESULTS / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
