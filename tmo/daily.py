"""The jobs the task worker runs once a day: reminders, retention sweeps, unusual-access checks,
the audit checkpoint. Each is a function named in settings.DAILY_JOBS, taking no arguments and
returning a short summary (no personal data: it is kept as the task's result).

`run_daily_jobs` runs them all, each on its own so one failure does not stop the rest, then
enqueues itself for the next day at DAILY_JOBS_AT. `manage.py schedule_daily` (run by `make run`
before the worker starts) enqueues the first run if none is waiting, so the chain starts once and
a restarted worker does not start a second one.
"""

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

logger = logging.getLogger(__name__)


def next_run_at(now: datetime.datetime | None = None) -> datetime.datetime:
    """The next DAILY_JOBS_AT (local time) strictly after `now`."""
    now = timezone.localtime(now or timezone.now())
    at = datetime.time.fromisoformat(settings.DAILY_JOBS_AT)
    candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if candidate <= now:
        candidate = timezone.make_aware(
            datetime.datetime.combine(candidate.date() + datetime.timedelta(days=1), at)
        )
    return candidate


def run_jobs() -> dict[str, str]:
    results = {}
    for path in settings.DAILY_JOBS:
        try:
            results[path] = str(import_string(path)())
        except Exception as error:  # one job failing must not stop the others
            logger.exception("Daily job %s failed", path)
            results[path] = "failed: %s" % type(error).__name__
    return results


def _pending() -> bool:
    backend = run_daily_jobs.get_backend()
    if not backend.supports_defer:
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=run_daily_jobs.module_path, status="READY"
    ).exists()


def schedule_next(now: datetime.datetime | None = None):
    """Enqueue the next daily run unless one is already waiting. A backend that cannot defer
    (the immediate one in tests) gets nothing: the run would happen at once, for ever."""
    if not run_daily_jobs.get_backend().supports_defer or _pending():
        return None
    return run_daily_jobs.using(run_after=next_run_at(now)).enqueue()


@task()
def run_daily_jobs() -> dict[str, str]:
    results = run_jobs()
    schedule_next()
    return results
