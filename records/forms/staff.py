"""Forms for the HR pages."""

from django import forms

from records.forms.common import FilterFormMixin, by_end_date, containing_every_word
from records.models import JobApplication


class HRFilterForm(FilterFormMixin, forms.Form):
    STAFF_CHOICES = [("current", "Current staff"), ("former", "Former staff"), ("all", "All staff")]

    q = forms.CharField(label="Name, employee number or post", required=False, max_length=100)
    staff = forms.ChoiceField(label="Staff", choices=STAFF_CHOICES, required=False)
    application_status = forms.ChoiceField(
        label="Job applications",
        choices=[("", "All applications"), *JobApplication.Status.choices],
        required=False,
    )

    @property
    def staff_status(self) -> str:
        return self.valid_data().get("staff") or "current"

    def filter_staff(self, records):
        return containing_every_word(
            by_end_date(records, self.staff_status),
            self.valid_data().get("q"),
            (
                "person__first_name",
                "person__last_name",
                "employee_number",
                "job_title",
                "department",
            ),
        )

    def filter_applications(self, applications):
        status = self.valid_data().get("application_status")
        if status:
            applications = applications.filter(status=status)
        return containing_every_word(
            applications,
            self.valid_data().get("q"),
            ("person__first_name", "person__last_name", "post"),
        )
