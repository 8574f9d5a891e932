"""Forms for the HR pages."""

from django import forms
from django.db.models import Q
from django.utils import timezone

from records.models import JobApplication


class HRFilterForm(forms.Form):
    STAFF_CHOICES = [("current", "Current staff"), ("former", "Former staff"), ("all", "All staff")]

    q = forms.CharField(label="Name, employee number or post", required=False, max_length=100)
    staff = forms.ChoiceField(label="Staff", choices=STAFF_CHOICES, required=False)
    application_status = forms.ChoiceField(
        label="Job applications",
        choices=[("", "All applications"), *JobApplication.Status.choices],
        required=False,
    )

    def _data(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}

    @property
    def staff_status(self) -> str:
        return self._data().get("staff") or "current"

    def _words(self) -> list[str]:
        return (self._data().get("q") or "").split()

    def filter_staff(self, records):
        today = timezone.localdate()
        current = Q(end_date__isnull=True) | Q(end_date__gte=today)
        if self.staff_status == "current":
            records = records.filter(current)
        elif self.staff_status == "former":
            records = records.exclude(current)
        for word in self._words():
            records = records.filter(
                Q(person__first_name__icontains=word)
                | Q(person__last_name__icontains=word)
                | Q(employee_number__icontains=word)
                | Q(job_title__icontains=word)
                | Q(department__icontains=word)
            )
        return records

    def filter_applications(self, applications):
        status = self._data().get("application_status")
        if status:
            applications = applications.filter(status=status)
        for word in self._words():
            applications = applications.filter(
                Q(person__first_name__icontains=word)
                | Q(person__last_name__icontains=word)
                | Q(post__icontains=word)
            )
        return applications
