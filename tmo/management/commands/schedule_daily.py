"""Start the worker's daily round (tmo.daily) if it is not already waiting. Safe to run on every
start: a second run finds the waiting task and does nothing. `--now` also runs the jobs at once."""

from django.core.management.base import BaseCommand

from tmo import daily


class Command(BaseCommand):
    help = "Enqueue the daily jobs (reminders, sweeps, audit checkpoint) if none is waiting."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="Run every daily job now as well.")

    def handle(self, *args, now=False, **options):
        if now:
            for path, summary in daily.run_jobs().items():
                self.stdout.write("%s: %s" % (path, summary))
        if not daily.run_daily_jobs.get_backend().supports_defer:
            self.stdout.write("This task backend runs tasks at once: no daily round is kept.")
            return
        result = daily.schedule_next()
        if result is None:
            self.stdout.write("The daily jobs are already scheduled.")
        else:
            self.stdout.write(
                "The daily jobs will next run at %s." % result.task.run_after.isoformat()
            )
