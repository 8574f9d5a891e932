"""Forms for the household pages: the tenancy list filter and adding a household member."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format

from records.forms.common import FilterFormMixin, by_end_date, containing_every_word
from records.models import HouseholdMember, Patch, Person, Tenancy


class DateInputWidget(forms.MultiWidget):
    """The GOV.UK date input: separate day, month and year boxes (names field_day, _month, _year)."""

    def __init__(self, attrs=None):
        super().__init__(
            {"day": forms.TextInput(), "month": forms.TextInput(), "year": forms.TextInput()}, attrs
        )

    def decompress(self, value):
        if isinstance(value, datetime.date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]


class DateField(forms.MultiValueField):
    """A date typed into three boxes, with the GOV.UK pattern's error messages.

    The sub-fields accept any text so that compress() can say which part is missing or wrong,
    instead of Django's generic 'Enter a whole number.'.
    """

    widget = DateInputWidget

    def __init__(self, *, label: str, **kwargs):
        self.label_text = label
        parts = (
            forms.CharField(required=False, max_length=2),
            forms.CharField(required=False, max_length=2),
            forms.CharField(required=False, max_length=4),
        )
        kwargs.setdefault("error_messages", {"required": "Enter the %s" % label.lower()})
        super().__init__(fields=parts, require_all_fields=False, label=label, **kwargs)

    def compress(self, data_list):
        if not data_list:
            return None
        day, month, year = (str(part or "").strip() for part in data_list)
        missing = [
            name for name, part in (("day", day), ("month", month), ("year", year)) if not part
        ]
        if missing:
            raise ValidationError(
                "%s must include a %s" % (self.label_text, " and ".join(missing)), code="incomplete"
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise ValidationError("%s must be a real date" % self.label_text, code="invalid")
        try:
            return datetime.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValidationError(
                "%s must be a real date" % self.label_text, code="invalid"
            ) from exc


class TenancyFilterForm(FilterFormMixin, forms.Form):
    STATUS_CHOICES = [("current", "Current"), ("former", "Former"), ("all", "All")]
    SEARCHED_FIELDS = (
        "reference",
        "property__reference",
        "property__address_line_1",
        "property__address_line_2",
        "property__town",
        "property__postcode",
    )

    q = forms.CharField(label="Tenancy reference or address", required=False, max_length=100)
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    patch = forms.ModelChoiceField(
        label="Patch", queryset=Patch.objects.none(), required=False, empty_label="All patches"
    )

    def __init__(self, *args, tenancies, **kwargs):
        super().__init__(*args, **kwargs)
        # Only patches the user has tenancies in: offering the rest would only return nothing.
        self.fields["patch"].queryset = Patch.objects.filter(
            pk__in=tenancies.values("property__patch")
        )

    def filter(self, tenancies):
        """The tenancies narrowed by the valid filters; an invalid filter is simply ignored."""
        data = self.valid_data()
        tenancies = by_end_date(tenancies, self.chosen_status)
        if data.get("patch"):
            tenancies = tenancies.filter(property__patch=data["patch"])
        return containing_every_word(tenancies, data.get("q"), self.SEARCHED_FIELDS)

    @property
    def chosen_status(self) -> str:
        return self.valid_data().get("status") or "current"


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label="Search for the person by name",
        max_length=100,
        required=False,
        help_text="For example, Amira Shah. Only people you are allowed to see are listed.",
    )


class HouseholdMemberForm(forms.Form):
    person = forms.ModelChoiceField(
        label="Person",
        queryset=Person.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Select the person to add to the household",
            "invalid_choice": "Select a person from the search results",
        },
    )
    relationship = forms.ChoiceField(
        label="How are they related to the tenant?",
        choices=HouseholdMember.Relationship.choices,
        error_messages={
            "required": "Select how the person is related to the tenant",
            "invalid_choice": "Select how the person is related to the tenant",
        },
    )
    start_date = DateField(
        label="Date they joined the household",
        help_text="For example, 27 3 2024",
    )

    def __init__(self, *args, people, tenancy: Tenancy, **kwargs):
        super().__init__(*args, **kwargs)
        # The choice is checked against the people this user may see, never against all people.
        self.fields["person"].queryset = people
        self.tenancy = tenancy

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if start and start > timezone.localdate():
            raise ValidationError("Date they joined the household must be today or in the past")
        if start and start < self.tenancy.start_date:
            raise ValidationError(
                "Date they joined the household must be on or after the tenancy started (%s)"
                % date_format(self.tenancy.start_date, "j F Y")
            )
        return start
