"""The register of data protection impact assessments (UK GDPR Art. 35) for new projects and
systems, each linked to the parts of the personal-data map it covers."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmo.concurrency import VersionedModel
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = ["ImpactAssessment"]


class ImpactAssessmentQuerySet(models.QuerySet):
    def review_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.filter(status=ImpactAssessment.Status.SIGNED_OFF, review_on__lt=today)


class ImpactAssessment(VersionedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED_OFF = "signed_off", _("Signed off")
        RETIRED = "retired", _("No longer in use")

    title = models.CharField(max_length=200)
    description = models.TextField(
        help_text="The project or system, what it does with personal data and why."
    )
    # Model labels from the personal-data map ("records.person"), checked by the service.
    covers = models.JSONField(default=list, blank=True)
    risks = models.TextField(blank=True)
    measures = models.TextField(blank=True)
    dpo_advice = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    sign_off_notes = models.TextField(blank=True)
    review_on = models.DateField(null=True, blank=True)

    objects = ImpactAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = "data protection impact assessment"

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Assessing the risks of new projects and systems to people's data before they "
        "start (UK GDPR Art. 35). Names staff only as authors and signatories.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=Retention(years=6, after="the project or system is retired"),
    )

    def __str__(self):
        return self.title

    def review_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return (
            self.status == self.Status.SIGNED_OFF
            and self.review_on is not None
            and self.review_on < today
        )
