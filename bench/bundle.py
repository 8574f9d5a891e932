"""One subject access bundle, from collection to a built file, through the sar app's own
services, in a process of its own so that its peak memory is its alone.

    python -m bench.bundle REQUEST_ID HANDLER_ID SIGNER_ID

Prints a JSON line as each step ends, then one with the result: the seconds of each step, the
item count, the bundle's size and status, and the process's peak resident memory (VmHWM). Run by bench/run.py, which also reads the
child's rusage; needs DJANGO_SETTINGS_MODULE=tmo.settings.bench.
"""

import contextlib
import json
import sys
import threading
import time


def peak_rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class TotalMemory:
    """The most memory this process and its descendants (the PDF layout workers) held at once,
    sampled ten times a second: VmHWM alone would leave the workers out."""

    def __init__(self):
        import psutil

        self.process = psutil.Process()
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        import psutil

        while not self.stopped.wait(0.1):
            total = 0
            for process in [self.process, *self.process.children(recursive=True)]:
                # A worker may end between the listing and the reading.
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)

    def peak_mb(self) -> float:
        return round(self.peak / 1024 / 1024, 1)


MEMORY = None


def progress(step: str, seconds: float, **details) -> None:
    """One line per finished step, so that a parent that stops a slow build knows how far it
    got (and how long each step took)."""
    line = {
        "step": step,
        "seconds": round(seconds, 3),
        "peak_rss_mb": peak_rss_mb(),
        "peak_total_rss_mb": MEMORY.peak_mb() if MEMORY else None,
        **details,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def build(request_id: int, handler_id: int, signer_id: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from sar import tasks
    from sar.models import Bundle, SarRedaction, SubjectAccessRequest
    from sar.services import bundles

    users = get_user_model().objects
    handler, signer = users.get(pk=handler_id), users.get(pk=signer_id)
    request = SubjectAccessRequest.objects.get(pk=request_id)
    steps = {}

    started = time.perf_counter()
    bundle = bundles.bundle_collect(request=request, collected_by=handler)
    steps["collect"] = time.perf_counter() - started
    progress("collect", steps["collect"], items=bundle.items.count())

    # The handler's review as the review page does it for a heavy subject: every item read and
    # included in one step, each proposed redaction decided on its own.
    started = time.perf_counter()
    bundles.items_include_pending(bundle=bundle, decided_by=handler)
    for redaction in SarRedaction.objects.filter(
        item__bundle=bundle, status=SarRedaction.Status.PROPOSED
    ).order_by("pk"):
        bundles.redaction_decide(redaction=redaction, decided_by=handler, accept=True)
    bundle = bundles.review_complete(bundle=bundle, reviewed_by=handler)
    steps["review"] = time.perf_counter() - started
    progress("review", steps["review"])

    started = time.perf_counter()
    with transaction.atomic():
        bundle = bundles.bundle_sign_off(bundle=bundle, signed_off_by=signer)
    steps["sign_off"] = time.perf_counter() - started

    # The worker's job, run here rather than by db_worker so that it is timed in this process
    # (the queued copy finds the bundle already built and does nothing).
    started = time.perf_counter()
    outcome = tasks.build_bundle.call(bundle.pk)
    steps["build"] = time.perf_counter() - started

    bundle = Bundle.objects.get(pk=bundle.pk)
    return {
        "outcome": outcome,
        "pdf_layout_workers": settings.PDF_LAYOUT_WORKERS,
        "status": bundle.status,
        "items": bundle.items.count(),
        "size_bytes": bundle.size,
        "steps": {name: round(seconds, 3) for name, seconds in steps.items()},
        "peak_rss_mb": peak_rss_mb(),
        "peak_total_rss_mb": MEMORY.peak_mb() if MEMORY else None,
    }


def main(argv: list[str]) -> int:
    import django

    global MEMORY
    django.setup()
    MEMORY = TotalMemory()
    request_id, handler_id, signer_id = (int(value) for value in argv[1:4])
    sys.stdout.write(json.dumps({"result": build(request_id, handler_id, signer_id)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
