"""Enqueue today's due-date reminders for rights requests. Run once a day (cron or a systemd
timer); the task worker (`manage.py db_worker`) sends them. Running it twice in a day sends
nothing new: each request is reminded of once a day at most."""

from django.core.management.base import BaseCommand

from sar.services.requests import send_due_reminders


class Command(BaseCommand):
    help = "Enqueue the daily reminders about rights requests due soon or overdue."

    def handle(self, *args, **options):
        result = send_due_reminders.enqueue()
        self.stdout.write("Enqueued the rights-request reminders (task %s)." % result.id)
