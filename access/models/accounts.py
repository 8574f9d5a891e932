"""Access models: accounts. Where each account is signed in, so that all of it can be ended."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = ["UserSession"]


class UserSession(models.Model):
    """One signed-in session of an account: written at sign-in, removed when it ends.

    The session store alone cannot say which sessions belong to whom without decoding every
    one; this row lets sign-out and disabling an account end each of that account's sessions.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Security of processing: ending every session of an account at sign-out or when "
        "the account is disabled, and showing users where they are signed in.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=0, after="the session ends (the row is deleted then)"),
        # The session key is a credential: it never goes into the audit log.
        sensitive_fields=("session_key", "ip_address", "user_agent"),
        unlinked_reason="About staff accounts signing in, not about people on the register.",
    )

    def __str__(self):
        return "Session of user %s from %s" % (self.user_id, self.created_at)
