"""Forms for the third-party request journey: log, override, decide, approve, send, person told.

What was asked for and what is released are keys of the personal-data map's disclosable items
(tmo.datamap.disclosable_items), chosen with checkboxes grouped by the kind of record.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from access.reauth import PasswordConfirmationMixin
from disclosures.models import Basis, DisclosureDecision, DisclosureRequest, RequesterType
from records import documents
from records.forms.people import GovukDateField
from records.models import Person
from tmo import datamap
from tmo.forms import GovukFormMixin

PersonTold = DisclosureDecision.PersonTold


def disclosable_choices(keys=None) -> list[tuple[str, str]]:
    """The personal-data map's disclosable items as choices, in the map's order: only those named
    by `keys` when given. Read when a form is built, so a field can take the function itself."""
    return [
        (item.key, item.label)
        for item in datamap.disclosable_items()
        if keys is None or item.key in keys
    ]


def blank(cleaned: dict, name: str) -> bool:
    """Whether an optional text field was left empty, or holds only spaces."""
    return not (cleaned.get(name) or "").strip()


def item_groups(keys, *, checked=(), blocked=(), field_id="id_items") -> list[dict]:
    """The items named by `keys`, grouped by kind of record in the map's order, for a template
    to draw as checkboxes: each with its short label, whether it is special category or
    criminal offence data, whether it is ticked, and why it cannot be (a safety block)."""
    wanted = set(keys)
    groups: dict[str, dict] = {}
    index = 0
    for item in datamap.disclosable_items():
        if item.key not in wanted:
            continue
        kind, _, field_label = item.label.partition(": ")
        group = groups.setdefault(kind, {"label": kind, "items": []})
        group["items"].append(
            {
                "key": item.key,
                "id": "%s_%d" % (field_id, index),
                "label": field_label[:1].upper() + field_label[1:],
                "full_label": item.label,
                "special": item.needs_condition,
                "category": datamap.Category(item.category).label,
                "protected": item.safety_protected,
                "checked": item.key in checked,
                "blocked": item.key in blocked,
            }
        )
        index += 1
    return list(groups.values())


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files, each checked for size and real type before anything is saved."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in files]
        errors = []
        for upload in cleaned:
            try:
                check_upload(upload)
            except ValidationError as error:
                errors.extend("%s: %s" % (upload.name, message) for message in error.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


def check_upload(upload) -> None:
    if upload.size is not None and upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            "The selected file must be smaller than %(limit)s MB.",
            params={"limit": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)},
        )
    data = upload.read()
    upload.seek(0)
    documents.sniff_content_type(data, upload.name or "evidence")


class PersonFindForm(GovukFormMixin, forms.Form):
    """Find whom the request is about among the people the logger may see."""

    q = forms.CharField(
        label="Name, address, NI number, email or phone number",
        max_length=100,
        required=False,
    )
    number = forms.IntegerField(
        label="Or the person's record number",
        required=False,
        min_value=1,
        help_text="The number shown under the person's name on their page.",
    )


class LogRequestForm(GovukFormMixin, forms.Form):
    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose the person the request is about",
            "invalid_choice": "Choose a person from the register whose record you can see",
        },
    )
    requester_type = forms.ChoiceField(
        label="Type of requester",
        choices=[("", "Choose the type of requester"), *RequesterType.choices],
        error_messages={"required": "Choose the type of requester"},
    )
    requester_organisation = forms.CharField(
        label="Organisation",
        max_length=200,
        error_messages={"required": "Enter the organisation making the request"},
    )
    requester_name = forms.CharField(
        label="Named contact",
        max_length=200,
        help_text="The person at the organisation who asked, with their rank or role.",
        error_messages={"required": "Enter the name of the person who asked"},
    )
    requester_contact = forms.CharField(
        label="Their contact details",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="An address, email or phone number the answer can go to.",
        error_messages={"required": "Enter the requester's contact details"},
    )
    identity_check = forms.CharField(
        label="How you checked who they are",
        max_length=300,
        help_text="For example: called back on the station's published switchboard number.",
        error_messages={"required": "Enter how you checked the requester's identity"},
    )
    requested_items = forms.MultipleChoiceField(
        label="What they asked for",
        choices=disclosable_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one item the requester asked for",
            "invalid_choice": "Choose items from the list",
        },
    )
    request_details = forms.CharField(
        label="The request in their words",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter what they asked for, in their words"},
    )
    purpose = forms.CharField(
        label="Why they say they need it",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the requester says they need the information"},
    )
    basis = forms.ChoiceField(
        label="Lawful basis or exemption they rely on",
        choices=Basis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the lawful basis or exemption relied on"},
    )
    received_on = GovukDateField(label="Date received", past_only=True)
    urgency = forms.ChoiceField(
        label="How urgent it is",
        choices=DisclosureRequest.Urgency.choices,
        initial=DisclosureRequest.Urgency.ROUTINE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how urgent the request is"},
    )
    evidence = MultipleFileField(
        label="Evidence (optional)",
        required=False,
        help_text="For example the police data protection form or a court order: PDF, JPG, PNG "
        "or plain text. You can choose more than one file.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["person"].queryset = Person.objects.visible_to(user)

    def item_groups(self):
        checked = self["requested_items"].value() or []
        return item_groups(
            [key for key, _ in self.fields["requested_items"].choices],
            checked=checked,
            field_id=self["requested_items"].auto_id,
        )


class ConfirmedForm(GovukFormMixin, PasswordConfirmationMixin):
    """A decision the user confirms with their password: built with `user=`, whose it must be."""

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class SafetyOverrideForm(ConfirmedForm):
    reason = forms.CharField(
        label="Why the protected details must be released despite the safety marker",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="This is recorded with your name. Name the risk that not releasing them brings.",
        error_messages={"required": "Enter why the protected details must be released"},
    )
    field_order = ["reason", "password"]


class DecideForm(ConfirmedForm):
    RELEASE, REFUSE = "release", "refuse"

    outcome = forms.ChoiceField(
        label="Your decision",
        choices=[
            (RELEASE, "Release the items ticked below, and nothing else"),
            (REFUSE, "Refuse the request"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to release or refuse"},
    )
    released_items = forms.MultipleChoiceField(
        label="What to release",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only what was asked for, and only what is necessary for the purpose.",
        error_messages={"invalid_choice": "Only what was asked for can be released"},
    )
    necessity = forms.CharField(
        label="Why each released item is necessary for the purpose",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    special_category_condition = forms.CharField(
        label="Special category or criminal offence condition (if releasing such data)",
        required=False,
        max_length=300,
        help_text="For example: DPA 2018 Sch. 1 para 10, preventing or detecting unlawful acts.",
    )
    reasons = forms.CharField(
        label="Reasons for your decision",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Recorded whether you release or refuse.",
        error_messages={"required": "Enter the reasons for your decision"},
    )
    decider_position = forms.CharField(
        label="Your position",
        max_length=100,
        help_text="The record names who decided and as what, for example Housing manager.",
        error_messages={"required": "Enter your position"},
    )
    field_order = [
        "outcome",
        "released_items",
        "necessity",
        "special_category_condition",
        "reasons",
        "decider_position",
        "password",
    ]

    def __init__(self, *args, request: DisclosureRequest, blocked=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disclosure = request
        self.blocked = set(blocked)
        self.fields["released_items"].choices = disclosable_choices(request.requested_items)

    def item_groups(self):
        checked = self["released_items"].value() or []
        return item_groups(
            self.disclosure.requested_items,
            checked=checked,
            blocked=self.blocked,
            field_id=self["released_items"].auto_id,
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == self.RELEASE:
            released = cleaned.get("released_items") or []
            if not released:
                self.add_error("released_items", "Choose what to release, or refuse the request")
            held_back = [key for key in released if key in self.blocked]
            if held_back:
                self.add_error(
                    "released_items",
                    "A safety marker holds back the protected details: untick them, or ask "
                    "the data protection lead to record an override",
                )
            if blank(cleaned, "necessity"):
                self.add_error(
                    "necessity", "Enter why each released item is necessary for the purpose"
                )
            needs_condition = any(
                (item := datamap.disclosable_item(key)) and item.needs_condition for key in released
            )
            if needs_condition and blank(cleaned, "special_category_condition"):
                self.add_error(
                    "special_category_condition",
                    "Enter the condition relied on for special category or criminal offence data",
                )
        return cleaned


class DpoApproveForm(ConfirmedForm):
    verdict = forms.ChoiceField(
        label="Your decision",
        choices=[
            ("approve", "I have checked the condition recorded and approve this release"),
            ("refuse", "Refuse the release: nothing is sent"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you approve or refuse this release"},
    )
    refusal_reason = forms.CharField(
        label="Why you refuse it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_order = ["verdict", "refusal_reason", "password"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("verdict") == "refuse" and blank(cleaned, "refusal_reason"):
            self.add_error("refusal_reason", "Enter why you refuse the release")
        return cleaned


class SendForm(ConfirmedForm):
    recipient_confirmed = forms.CharField(
        label="Send to",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Check the recipient's name, organisation and address against what you know "
        "independently of the request before anything is sent.",
        error_messages={"required": "Confirm the recipient's contact details"},
    )
    confirm = forms.BooleanField(
        label="I have checked these are the right recipient's details",
        error_messages={"required": "Confirm that you have checked the recipient's details"},
    )
    field_order = ["recipient_confirmed", "confirm", "password"]


class PersonToldForm(GovukFormMixin, forms.Form):
    person_told = forms.ChoiceField(
        label="Was the person told about this disclosure?",
        choices=[
            (PersonTold.TOLD, PersonTold.TOLD.label),
            (PersonTold.NOT_TOLD_CRIME, PersonTold.NOT_TOLD_CRIME.label),
            (PersonTold.NOT_TOLD_OTHER, PersonTold.NOT_TOLD_OTHER.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the person was told"},
    )
    told_on = GovukDateField(label="Date they were told", past_only=True, required=False)
    note = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="If they were not told, why not. This decides what their subject access "
        "bundle shows about the disclosure.",
    )

    def clean(self):
        cleaned = super().clean()
        told = cleaned.get("person_told")
        if told == PersonTold.TOLD and not cleaned.get("told_on"):
            self.add_error("told_on", "Enter the date the person was told")
        if told in {PersonTold.NOT_TOLD_CRIME, PersonTold.NOT_TOLD_OTHER}:
            if blank(cleaned, "note"):
                self.add_error("note", "Enter why the person is not told")
            cleaned["told_on"] = None
        return cleaned
