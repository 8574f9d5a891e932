"""The worker's daily round: when it next runs, each job on its own, and exactly one round
waiting at a time."""

import datetime
import zoneinfo

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from tmo import daily

LONDON = zoneinfo.ZoneInfo("Europe/London")
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
calls = []


def counted_job():
    calls.append(1)
    return "counted"


def broken_job():
    raise RuntimeError("the details of this must not stop the round")


@pytest.mark.parametrize(
    "now,expected",
    [
        (datetime.datetime(2026, 11, 22, 1, 0), datetime.datetime(2026, 11, 22, 2, 0)),
        (datetime.datetime(2026, 11, 22, 2, 0), datetime.datetime(2026, 11, 23, 2, 0)),
        (datetime.datetime(2026, 11, 22, 23, 30), datetime.datetime(2026, 11, 23, 2, 0)),
        # Across the clocks going forward, still two in the morning local time.
        (datetime.datetime(2026, 3, 28, 12, 0), datetime.datetime(2026, 3, 29, 2, 0)),
    ],
)
def test_next_run_is_the_next_two_oclock(now, expected, settings):
    settings.TIME_ZONE = "Europe/London"
    got = daily.next_run_at(now.replace(tzinfo=LONDON))
    assert got.astimezone(LONDON).replace(tzinfo=None) == expected


def test_one_failing_job_does_not_stop_the_others(settings, caplog):
    settings.DAILY_JOBS = [
        "tests.tmo.test_daily.broken_job",
        "tests.tmo.test_daily.counted_job",
    ]
    calls.clear()
    results = daily.run_jobs()
    assert calls == [1]
    assert results["tests.tmo.test_daily.counted_job"] == "counted"
    assert results["tests.tmo.test_daily.broken_job"] == "failed: RuntimeError"
    assert "must not stop" not in results["tests.tmo.test_daily.broken_job"]


def test_every_configured_job_can_be_imported(settings):
    from django.utils.module_loading import import_string

    for path in settings.DAILY_JOBS:
        assert callable(import_string(path))


def test_the_immediate_backend_gets_no_round():
    assert daily.schedule_next() is None


@pytest.mark.django_db
def test_one_round_waits_at_a_time(capsys):
    with override_settings(TASKS=DB_TASKS):
        call_command("schedule_daily")
        call_command("schedule_daily")
        waiting = DBTaskResult.objects.filter(task_path=daily.run_daily_jobs.module_path)
        assert waiting.count() == 1
        assert waiting.get().run_after > datetime.datetime.now(datetime.UTC)
    out = capsys.readouterr().out
    assert "will next run at" in out and "already scheduled" in out
