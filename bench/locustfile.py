"""The load test: staff signed in with both factors, browsing search and person pages.

Run by bench/run.py as a separate process:

    locust -f bench/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:PORT StaffUser

BENCH_USERS names a JSON file of accounts (bench/setup.py) with the people and search terms each
may use; BENCH_LOCUST_OUT is where the summary goes. BareUser asks only for the bare page
(bench/urls.py), for the baseline.

Each user first signs in from its own account, password then authenticator code, through the
real pages. Signing in is deliberately slow (password hashing), so the measured window opens
only once every user is in: the last one to arrive resets the statistics, each user then thinks
before its first request as before any other, and the run ends BENCH_DURATION seconds later
(locust's own --run-time is the outer bound, sign-in included).
The requests of the whole run also stop at BENCH_MAX_REQUESTS whatever the time left.
"""

import itertools
import json
import os
import random
import time

import gevent
from gevent.event import Event
from locust import HttpUser, between, events, task
from locust.exception import StopUser
from locust.stats import StatsEntry

from bench.client import SignInFailed, sign_in

WAIT_MIN = float(os.environ.get("BENCH_WAIT_MIN", "1"))
WAIT_MAX = float(os.environ.get("BENCH_WAIT_MAX", "2"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "50000"))
DURATION = float(os.environ.get("BENCH_DURATION", "60"))
USERS = int(os.environ.get("BENCH_LOCUST_USERS", "50"))
SIGN_IN_NAME = "sign-in"

with open(os.environ["BENCH_USERS"]) as accounts_file:
    ACCOUNTS = json.load(accounts_file)
_next_account = itertools.cycle(ACCOUNTS)
_sent = itertools.count(1)
_all_signed_in = Event()
SIGN_INS = {"tried": 0, "failed": 0, "seconds": [], "window_opened": None, "errors": []}


class _Staff(HttpUser):
    abstract = True
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self):
        self.account = next(_next_account)
        started = time.perf_counter()
        try:
            sign_in(
                self.client,
                "",
                username=self.account["username"],
                password=self.account["password"],
                key_hex=self.account["key"],
                name=SIGN_IN_NAME,
            )
        except SignInFailed as failure:
            self.signed_in = False
            SIGN_INS["failed"] += 1
            SIGN_INS["errors"].append(str(failure))
        else:
            self.signed_in = True
            SIGN_INS["seconds"].append(time.perf_counter() - started)
        SIGN_INS["tried"] += 1
        if SIGN_INS["tried"] >= USERS and not _all_signed_in.is_set():
            self.environment.stats.reset_all()
            SIGN_INS["window_opened"] = time.time()
            gevent.spawn_later(DURATION, self.environment.runner.quit)
            _all_signed_in.set()
        _all_signed_in.wait()
        if not self.signed_in:
            raise StopUser()
        # A think time before the first request as before every other: otherwise all the users,
        # held until the last had signed in, would ask at the same instant as the window opens,
        # a queue of 50 that no office makes and that set the run's p99.
        gevent.sleep(self.wait_time())

    def page(self, url: str, name: str):
        if not _all_signed_in.is_set():
            return
        if next(_sent) > MAX_REQUESTS:
            self.environment.runner.quit()
            return
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure("status %s" % response.status_code)
            elif "/sign-in/" in response.url:
                response.failure("sent to sign in")


class StaffUser(_Staff):
    @task(1)
    def search(self):
        self.page("/people/?q=%s" % random.choice(self.account["terms"]), "search")

    @task(2)
    def person(self):
        self.page("/people/%d/" % random.choice(self.account["person_ids"]), "person")


class BareUser(_Staff):
    @task
    def bare(self):
        self.page("/bench/bare/", "bare")


@events.quitting.add_listener
def write_summary(environment, **kwargs):
    """Browsing requests merged (sign-in apart), and every failure, to BENCH_LOCUST_OUT."""
    stats = environment.stats
    browse = StatsEntry(stats, "browse", "GET")
    for entry in stats.entries.values():
        if entry.name != SIGN_IN_NAME:
            browse.extend(entry)
    signed_in = sorted(SIGN_INS["seconds"])
    summary = {
        "requests": browse.num_requests,
        "failures": browse.num_failures,
        "sign_ins": SIGN_INS["tried"],
        "sign_in_failures": SIGN_INS["failed"],
        "sign_in_p50_s": round(signed_in[len(signed_in) // 2], 2) if signed_in else None,
        "sign_in_max_s": round(signed_in[-1], 2) if signed_in else None,
        "window_s": round(time.time() - SIGN_INS["window_opened"], 1)
        if SIGN_INS["window_opened"]
        else None,
        "rps": round(browse.total_rps, 2),
        "p50": browse.get_response_time_percentile(0.5) if browse.num_requests else None,
        "p95": browse.get_response_time_percentile(0.95) if browse.num_requests else None,
        "p99": browse.get_response_time_percentile(0.99) if browse.num_requests else None,
        "by_page": {
            entry.name: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p95": entry.get_response_time_percentile(0.95),
            }
            for entry in stats.entries.values()
            if entry.num_requests and entry.name != SIGN_IN_NAME
        },
        "errors": [
            {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
            for error in stats.errors.values()
        ][:20]
        + [{"name": SIGN_IN_NAME, "error": e, "occurrences": 1} for e in SIGN_INS["errors"][:5]],
    }
    with open(os.environ["BENCH_LOCUST_OUT"], "w") as out:
        json.dump(summary, out, indent=2)
