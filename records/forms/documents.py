"""The document upload form. Size and real-type checks happen in records.services.document_upload,
which reads the bytes; the form only checks what the browser sent."""

from django import forms
from django.conf import settings

from records.models import ContactRecord, Document, Person
from tmo.forms import GovukFormMixin


class ContactRecordChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "%s: %s" % (obj.occurred_at.date().strftime("%d/%m/%Y"), obj.subject)


class DocumentUploadForm(GovukFormMixin, forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="For example, ‘Photo of mould in back bedroom’.",
        error_messages={"required": "Enter a title for the document"},
    )
    kind = forms.ChoiceField(
        label="Kind of document",
        choices=Document.Kind.choices,
        initial=Document.Kind.OTHER,
        error_messages={"required": "Select the kind of document"},
    )
    upload = forms.FileField(
        label="Upload a file",
        help_text="PDF, JPG, PNG or plain text.",
        error_messages={
            "required": "Select a file",
            "empty": "The selected file is empty",
            "invalid": "The selected file could not be uploaded – try again",
        },
    )
    contact_record = ContactRecordChoiceField(
        label="Which contact is it part of? (optional)",
        queryset=ContactRecord.objects.none(),
        required=False,
        empty_label="Not part of a particular contact",
    )

    def __init__(self, *args, person: Person, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_record"].queryset = ContactRecord.objects.visible_to(user).filter(
            person=person
        )
        limit = settings.DOCUMENT_MAX_BYTES / (1024 * 1024)
        self.fields["upload"].help_text = "PDF, JPG, PNG or plain text, smaller than %s MB." % (
            f"{round(limit, 1):g}"
        )
