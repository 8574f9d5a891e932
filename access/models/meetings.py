"""Committee meetings: public minutes, confidential minutes kept apart, numbered report copies."""

from django.conf import settings
from django.db import models

from tmo.datamap import Category, LawfulBasis, PersonalData, Retention
from tmo.fields import EncryptedTextField

__all__ = ["Meeting"]


class Meeting(models.Model):
    title = models.CharField(max_length=200)
    held_on = models.DateField()
    location = models.CharField(max_length=200, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="meetings_attended"
    )
    public_minutes = models.TextField(blank=True)
    # Never listed beside the public minutes; only those present and the DPO may read them.
    confidential_minutes = EncryptedTextField()

    class Meta:
        ordering = ["-held_on", "title"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording committee decisions, including confidential matters about residents.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        retention=Retention(years=6, after="the meeting"),
        sensitive_fields=("confidential_minutes",),
        unlinked_reason="Confidential minutes name people in free text; they are found by search.",
    )

    def __str__(self):
        return "%s, %s" % (self.title, self.held_on.isoformat())
