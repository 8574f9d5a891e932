"""Forms for recording a contact and for filtering a person's contact timeline."""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from records.forms.people import GovukDateField
from records.models import ContactRecord, Person, Tenancy
from tmo.forms import GovukFormMixin

TIME = re.compile(r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<half>am|pm)?$")
# Clocks on different machines drift; a contact logged "now" must not count as in the future.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)


def parse_time(value: str) -> datetime.time:
    """Times as people type them: 14:30, 2:30pm, 2pm, 9.15am."""
    match = TIME.match(value.strip().lower().replace(" ", ""))
    if not match:
        raise ValidationError("Enter a time, like 9:30am or 14:30")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise ValidationError("Enter a real time, like 9:30am or 14:30")
        hour = hour % 12 + (12 if match["half"] == "pm" else 0)
    elif match["minute"] is None:
        raise ValidationError("Enter a time, like 9:30am or 14:30")
    if hour > 23 or minute > 59:
        raise ValidationError("Enter a real time, like 9:30am or 14:30")
    return datetime.time(hour, minute)


class TenancyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "%s – %s" % (obj.reference, obj.property.address)


class ContactRecordForm(GovukFormMixin, forms.ModelForm):
    occurred_on = GovukDateField(
        label="Date of the contact", past_only=True, help_text="For example, 27 3 2026"
    )
    occurred_time = forms.CharField(
        label="Time of the contact",
        max_length=10,
        help_text="For example, 9:30am or 14:30",
        error_messages={"required": "Enter the time of the contact"},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5"}),
    )
    number_confirmed = forms.BooleanField(
        label="I confirmed the phone number with the person during this call",
        required=False,
    )
    tenancy = TenancyChoiceField(
        label="Which tenancy is this about? (optional)",
        queryset=Tenancy.objects.none(),
        required=False,
        empty_label="Not about a particular tenancy",
    )

    class Meta:
        model = ContactRecord
        fields = [
            "channel",
            "direction",
            "left_voicemail",
            "topic",
            "case_reference",
            "subject",
            "notes",
            "tenancy",
        ]
        labels = {
            "channel": "How did the contact happen?",
            "direction": "Who made the contact?",
            "left_voicemail": "I left a voicemail message",
            "topic": "Topic",
            "case_reference": "Case reference (optional)",
            "subject": "Subject",
            "notes": "Notes",
        }
        help_texts = {
            "case_reference": "Groups the contacts of one case, for example a repair job number.",
            "subject": "One line, for example ‘Reported damp in the back bedroom’.",
            "notes": "What was said and agreed. Write facts; the person can ask to see this.",
        }
        error_messages = {
            "channel": {"required": "Select how the contact happened"},
            "direction": {"required": "Select who made the contact"},
            "subject": {"required": "Enter a subject for the contact"},
        }
        widgets = {
            "channel": forms.RadioSelect,
            "direction": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 6}),
            "case_reference": forms.TextInput(attrs={"class": "govuk-input--width-10"}),
        }

    def __init__(self, *args, person: Person, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["channel"].choices = list(ContactRecord.Channel.choices)
        self.fields["direction"].choices = list(ContactRecord.Direction.choices)
        self.fields["topic"].choices = list(ContactRecord.Topic.choices)
        self.fields["notes"].required = True
        self.fields["notes"].error_messages["required"] = "Enter notes about the contact"
        self.fields["tenancy"].queryset = (
            Tenancy.objects.visible_to(user)
            .filter(members__person=person)
            .select_related("property")
            .distinct()
        )
        if not self.is_bound:
            now = timezone.localtime()
            # Most contacts are calls from the person, logged as they happen.
            self.initial.setdefault("channel", ContactRecord.Channel.PHONE)
            self.initial.setdefault("direction", ContactRecord.Direction.INBOUND)
            self.initial.setdefault("occurred_on", now.date())
            self.initial.setdefault("occurred_time", now.strftime("%H:%M"))

    def clean_occurred_time(self):
        return parse_time(self.cleaned_data["occurred_time"])

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("occurred_on"), cleaned.get("occurred_time")
        if day and time:
            occurred_at = timezone.make_aware(datetime.datetime.combine(day, time))
            if occurred_at > timezone.now() + FUTURE_TOLERANCE:
                self.add_error("occurred_time", "The time of the contact must be in the past")
            else:
                self.instance.occurred_at = occurred_at
        phone_call = (
            cleaned.get("channel") == ContactRecord.Channel.PHONE
            and cleaned.get("direction") == ContactRecord.Direction.OUTBOUND
        )
        if cleaned.get("left_voicemail") and not phone_call:
            self.add_error(
                "left_voicemail", "You can only leave a voicemail on a phone call to the person"
            )
        if (
            cleaned.get("number_confirmed")
            and cleaned.get("channel") != ContactRecord.Channel.PHONE
        ):
            self.add_error(
                "number_confirmed", "You can only confirm the phone number during a phone call"
            )
        return cleaned

    def contact(self) -> ContactRecord:
        """The unsaved contact, tied to the home of the tenancy it is about."""
        contact = self.instance
        if contact.tenancy is not None:
            contact.property = contact.tenancy.property
        return contact


class TimelineFilterForm(GovukFormMixin, forms.Form):
    topic = forms.ChoiceField(
        label="Topic",
        required=False,
        choices=[("", "All topics")] + list(ContactRecord.Topic.choices),
    )
    channel = forms.ChoiceField(
        label="How",
        required=False,
        choices=[("", "Any way")] + list(ContactRecord.Channel.choices),
    )
    direction = forms.ChoiceField(
        label="Who made the contact",
        required=False,
        choices=[("", "Either")] + list(ContactRecord.Direction.choices),
    )
    date_from = GovukDateField(label="From", required=False)
    date_to = GovukDateField(label="To", required=False)
    case_reference = forms.CharField(
        label="Case reference",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The ‘to’ date must be the same as or after the ‘from’ date")
        return cleaned

    @property
    def is_filtering(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())

    def apply(self, contacts):
        """The contacts that match; the unfiltered list when the filters have errors."""
        if not self.is_valid():
            return contacts
        data = self.cleaned_data
        for name in ("topic", "channel", "direction"):
            if data.get(name):
                contacts = contacts.filter(**{name: data[name]})
        if data.get("case_reference"):
            contacts = contacts.filter(case_reference__iexact=data["case_reference"].strip())
        tz = timezone.get_current_timezone()
        if data.get("date_from"):
            start = datetime.datetime.combine(data["date_from"], datetime.time.min, tzinfo=tz)
            contacts = contacts.filter(occurred_at__gte=start)
        if data.get("date_to"):
            end = datetime.datetime.combine(
                data["date_to"] + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
            )
            contacts = contacts.filter(occurred_at__lt=end)
        return contacts
