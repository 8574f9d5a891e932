"""Forms for a person's record, and the GOV.UK date input the register's forms share.

The GOV.UK plumbing of every form (classes, errors, error-summary links) is tmo.forms.GovukFormMixin;
templates render any field through one include: templates/includes/field.html.
"""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone

from records.models import (
    AuthorisedRepresentative,
    ContactMethod,
    Marker,
    Person,
    SensitiveInformation,
)
from records.policies import person_field_allowed
from tmo import crypto
from tmo.concurrency import VersionedFormMixin
from tmo.forms import GovukFormMixin

NI_NUMBER = re.compile(r"^[A-Z]{2}\d{6}[A-D]$")
SORT_CODE = re.compile(r"^\d{6}$")
ACCOUNT_NUMBER = re.compile(r"^\d{6,8}$")
# UK numbers once +44 / 0044 is turned into 0: ten or eleven digits starting 0.
UK_PHONE = re.compile(r"^0\d{9,10}$")
PHONE_CHARACTERS = re.compile(r"^[\d\s()+-]+$")


class GovukDateInput(forms.MultiWidget):
    """GOV.UK date input: separate day, month and year boxes inside the field's fieldset."""

    template = "records/includes/person_date_input.html"
    govuk_kind = "date"

    def __init__(self, attrs=None):
        super().__init__(
            [forms.TextInput(attrs={"inputmode": "numeric"}) for _ in range(3)], attrs=attrs
        )

    def decompress(self, value):
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def render(self, name, value, attrs=None, renderer=None):
        # Rendered with the project's template engine so the markup lives beside the other includes.
        context = self.get_context(name, value, attrs)
        parts = []
        for label, width, sub in zip(
            ("Day", "Month", "Year"), (2, 2, 4), context["widget"]["subwidgets"], strict=True
        ):
            parts.append({"label": label, "width": width, "widget": sub})
        return render_to_string(
            self.template,
            {"parts": parts, "id": context["widget"]["attrs"].get("id", ""), "error": self.error},
        )

    error = False


class GovukDateField(forms.MultiValueField):
    widget = GovukDateInput

    def __init__(self, *, past_only=False, **kwargs):
        self.past_only = past_only
        label = kwargs.get("label") or "date"
        fields = tuple(forms.CharField(required=False) for _ in range(3))
        kwargs.setdefault(
            "error_messages",
            {
                "required": "Enter the %s" % str(label).lower(),
                "incomplete": "%s must include a day, month and year" % label,
            },
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        if not all(data_list):
            raise ValidationError(self.error_messages["incomplete"])
        try:
            day, month, year = (int(part) for part in data_list)
            value = datetime.date(year, month, day)
        except (TypeError, ValueError):
            raise ValidationError("%s must be a real date" % self.label) from None
        if year < 1900:
            raise ValidationError("%s must be after 1900" % self.label)
        if self.past_only and value > timezone.localdate():
            raise ValidationError("%s must be in the past" % self.label)
        return value


def normalise_ni_number(value: str) -> str:
    return crypto.normalise_compact(value)


def format_ni_number(value: str) -> str:
    """QQ123456C as QQ 12 34 56 C, the way it is printed on letters from HMRC."""
    compact = normalise_ni_number(value or "")
    if not NI_NUMBER.match(compact):
        return value
    return " ".join([compact[:2], compact[2:4], compact[4:6], compact[6:8], compact[8]])


def clean_uk_phone(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        return ""
    if not PHONE_CHARACTERS.match(value) or not UK_PHONE.match(crypto.normalise_phone(value)):
        raise ValidationError(
            "Enter a UK phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
        )
    return value


class PersonForm(VersionedFormMixin, GovukFormMixin, forms.ModelForm):
    """A person's identity and contact details; sensitive fields only for roles that need them."""

    SENSITIVE_FIELDS = (
        "date_of_birth",
        "ni_number",
        "bank_account_name",
        "bank_sort_code",
        "bank_account_number",
    )

    date_of_birth = GovukDateField(
        label="Date of birth", required=False, past_only=True, help_text="For example, 27 3 2007"
    )
    email = forms.EmailField(
        label="Email address",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com"
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="Phone number",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "class": "govuk-input--width-20"}),
    )
    correspondence_address = forms.CharField(
        label="Correspondence address (optional)",
        required=False,
        help_text="Only where letters should go somewhere other than the tenancy address.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    preferred_contact_method = forms.ChoiceField(
        label="How does the person prefer to be contacted?",
        required=False,
        choices=[("", "No preference")] + list(ContactMethod.choices),
        widget=forms.RadioSelect,
    )
    ni_number = forms.CharField(
        label="National Insurance number (optional)",
        required=False,
        max_length=20,
        help_text="It’s on the person’s National Insurance card, benefit letter, payslip or P60. "
        "For example, ‘QQ 12 34 56 C’.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "spellcheck": "false"}),
    )
    bank_account_name = forms.CharField(
        label="Name on the account (optional)", required=False, max_length=100
    )
    bank_sort_code = forms.CharField(
        label="Sort code (optional)",
        required=False,
        max_length=10,
        help_text="Must be 6 digits long",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "inputmode": "numeric"}),
    )
    bank_account_number = forms.CharField(
        label="Account number (optional)",
        required=False,
        max_length=10,
        help_text="Must be between 6 and 8 digits long",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "numeric"}),
    )

    class Meta:
        model = Person
        fields = [
            "title",
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "email",
            "phone",
            "correspondence_address",
            "preferred_contact_method",
            "ni_number",
            "bank_account_name",
            "bank_sort_code",
            "bank_account_number",
        ]
        labels = {
            "title": "Title (optional)",
            "first_name": "First name",
            "last_name": "Last name",
            "preferred_name": "Preferred name (optional)",
        }
        error_messages = {
            "first_name": {"required": "Enter a first name"},
            "last_name": {"required": "Enter a last name"},
        }
        widgets = {
            "title": forms.TextInput(attrs={"class": "govuk-input--width-5"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "preferred_name": forms.TextInput(attrs={"spellcheck": "false"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # A field the user may not see is neither shown nor accepted: removing it here means a
        # posted value for it is ignored and the stored value is kept as it is.
        for name in self.SENSITIVE_FIELDS:
            if not person_field_allowed(user, name):
                del self.fields[name]
        if "ni_number" in self.fields and self.instance.ni_number:
            self.initial["ni_number"] = format_ni_number(self.instance.ni_number)

    @property
    def shows_bank_details(self) -> bool:
        return "bank_account_number" in self.fields

    def clean_first_name(self):
        return " ".join(self.cleaned_data["first_name"].split())

    def clean_last_name(self):
        return " ".join(self.cleaned_data["last_name"].split())

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean_phone(self):
        return clean_uk_phone(self.cleaned_data["phone"])

    def clean_correspondence_address(self):
        lines = [
            " ".join(line.split())
            for line in self.cleaned_data["correspondence_address"].splitlines()
        ]
        return "\n".join(line for line in lines if line)

    def clean_ni_number(self):
        value = normalise_ni_number(self.cleaned_data["ni_number"])
        if value and not NI_NUMBER.match(value):
            raise ValidationError(
                "Enter a National Insurance number in the correct format, like QQ 12 34 56 C"
            )
        return value

    def clean_bank_sort_code(self):
        value = re.sub(r"[\s-]", "", self.cleaned_data["bank_sort_code"])
        if not value:
            return ""
        if not SORT_CODE.match(value):
            raise ValidationError("Enter a valid sort code like 30-98-83")
        return "%s-%s-%s" % (value[:2], value[2:4], value[4:])

    def clean_bank_account_number(self):
        value = re.sub(r"\s", "", self.cleaned_data["bank_account_number"])
        if value and not ACCOUNT_NUMBER.match(value):
            raise ValidationError("Enter a valid account number like 00733445")
        return value

    def clean(self):
        cleaned = super().clean()
        if self.shows_bank_details:
            bank = ("bank_account_name", "bank_sort_code", "bank_account_number")
            given = [name for name in bank if cleaned.get(name)]
            if given and len(given) < len(bank) and not any(self.has_error(name) for name in bank):
                messages = {
                    "bank_account_name": "Enter the name on the account",
                    "bank_sort_code": "Enter a sort code",
                    "bank_account_number": "Enter an account number",
                }
                for name in bank:
                    if name not in given:
                        self.add_error(name, messages[name])
        return cleaned


class ContactDetailsConfirmForm(GovukFormMixin, forms.Form):
    details = forms.MultipleChoiceField(
        label="Which details did the person confirm are still right?",
        choices=[
            ("email", "Email address"),
            ("phone", "Phone number"),
            ("address", "Correspondence address"),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select which contact details the person confirmed"},
    )

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        # Only details the record holds can be confirmed.
        held = {
            "email": person.email,
            "phone": person.phone,
            "address": person.correspondence_address,
        }
        self.fields["details"].choices = [
            (key, label) for key, label in self.fields["details"].choices if held[key]
        ]


class MarkerForm(GovukFormMixin, forms.ModelForm):
    starts_on = GovukDateField(label="Start date", help_text="For example, 27 3 2026")
    ends_on = GovukDateField(
        label="End date (optional)",
        required=False,
        help_text="Leave blank if the marker applies until someone removes it.",
    )

    class Meta:
        model = Marker
        fields = ["kind", "details", "starts_on", "ends_on"]
        labels = {"kind": "Type of marker", "details": "Details (optional)"}
        help_texts = {"details": "What staff need to know. Do not include a safe address here."}
        error_messages = {"kind": {"required": "Select the type of marker"}}
        widgets = {"kind": forms.RadioSelect, "details": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A restriction is set and lifted through the rights request that asked for it, so the
        # person is told before it is lifted (Art. 18(3)) and what was done is recorded there.
        self.fields["kind"].choices = [
            choice for choice in Marker.Kind.choices if choice[0] not in Marker.RIGHTS_KINDS
        ]
        self.fields["details"].required = False
        self.fields["starts_on"].error_messages["required"] = "Enter the start date"
        if not self.is_bound:
            self.initial.setdefault("starts_on", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "End date must be the same as or after the start date")
        return cleaned


class RepresentativeForm(GovukFormMixin, forms.ModelForm):
    valid_from = GovukDateField(label="Authority starts on", help_text="For example, 27 3 2026")
    expires_on = GovukDateField(
        label="Authority ends on (optional)",
        required=False,
        help_text="Leave blank if the authority has no end date.",
    )

    class Meta:
        model = AuthorisedRepresentative
        fields = [
            "name",
            "relationship",
            "organisation",
            "contact_details",
            "evidence",
            "scope",
            "scope_notes",
            "valid_from",
            "expires_on",
        ]
        labels = {
            "name": "Representative’s full name",
            "relationship": "How are they connected to the person?",
            "organisation": "Organisation (optional)",
            "contact_details": "Contact details (optional)",
            "evidence": "Evidence of consent or authority",
            "scope": "What may they deal with?",
            "scope_notes": "Details of the matter",
        }
        help_texts = {
            "evidence": "What shows the consent or authority, for example ‘signed consent form "
            "dated 3 March 2026’. Upload the document itself to the person’s documents.",
            "scope_notes": "Required if they may deal with a specific matter only.",
        }
        error_messages = {
            "name": {"required": "Enter the representative’s full name"},
            "relationship": {"required": "Select how they are connected to the person"},
            "evidence": {"required": "Enter the evidence of consent or authority"},
            "scope": {"required": "Select what they may deal with"},
        }
        widgets = {
            "relationship": forms.RadioSelect,
            "scope": forms.RadioSelect,
            "contact_details": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relationship"].choices = list(AuthorisedRepresentative.Relationship.choices)
        self.fields["scope"].choices = list(AuthorisedRepresentative.Scope.choices)
        self.fields["contact_details"].required = False
        self.fields["valid_from"].error_messages["required"] = "Enter the date the authority starts"
        if not self.is_bound:
            self.initial.setdefault("valid_from", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("valid_from"), cleaned.get("expires_on")
        if starts and ends and ends < starts:
            self.add_error(
                "expires_on",
                "The end date must be the same as or after the date the authority starts",
            )
        if (
            cleaned.get("scope") == AuthorisedRepresentative.Scope.SPECIFIC
            and not cleaned.get("scope_notes", "").strip()
        ):
            self.add_error("scope_notes", "Enter the matter they may deal with")
        return cleaned


class SensitiveInformationForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = SensitiveInformation
        fields = ["kind", "condition", "details", "source"]
        labels = {
            "kind": "Kind of information",
            "condition": "Condition for processing",
            "details": "Details",
            "source": "Where did this information come from? (optional)",
        }
        help_texts = {
            "condition": "Special category and criminal offence data need a condition as well as "
            "a lawful basis. Ask the data protection lead if you are not sure.",
            "details": "Record only what staff need to adapt the service or keep people safe.",
        }
        error_messages = {
            "kind": {"required": "Select the kind of information"},
            "condition": {"required": "Select the condition for processing"},
        }
        widgets = {
            "kind": forms.RadioSelect,
            "condition": forms.RadioSelect,
            "details": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(SensitiveInformation.Kind.choices)
        self.fields["condition"].choices = list(SensitiveInformation.Condition.choices)
        self.fields["details"].required = True
        self.fields["details"].error_messages["required"] = "Enter the details"
