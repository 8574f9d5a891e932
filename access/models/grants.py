"""Committee access for a decision: named records, named members, a reason and an expiry."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = ["CommitteeAccessRequest", "CommitteeGrantItem"]


class CommitteeAccessRequest(models.Model):
    """An officer's request that named committee members see named records for one decision.

    Once approved it is the grant: it takes effect and ends by its own dates, read on every
    request, so no scheduled job is needed for it to stop working.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        REVOKED = "revoked", _("Revoked")

    decision = models.CharField(
        max_length=300, help_text="The decision or agenda item the committee must make."
    )
    meeting = models.ForeignKey(
        "access.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    reason = models.TextField(help_text="Why the committee cannot decide without these records.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="committee_grants")
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Recording which committee members may see which records, for which decision.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=Retention(years=6, after="the decision"),
    )

    def __str__(self):
        return "Committee access #%s: %s" % (self.pk, self.decision)

    @staticmethod
    def live_filter(now=None) -> Q:
        now = now or timezone.now()
        return Q(status="approved", revoked_at__isnull=True, expires_at__gt=now)

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.APPROVED
            and self.revoked_at is None
            and self.expires_at > now
        )


class CommitteeGrantItem(models.Model):
    """One record named in a committee access request (any model: person, document, bid...)."""

    request = models.ForeignKey(
        CommitteeAccessRequest, on_delete=models.CASCADE, related_name="items"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "content_type", "object_id"], name="one_item_per_record"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Naming the records a committee grant covers.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=Retention(years=6, after="the decision"),
    )

    def __str__(self):
        return "%s #%s" % (self.content_type, self.object_id)
