"""The GOV.UK form plumbing every app's forms share.

`GovukFormMixin` gives every widget its GOV.UK class (and the error modifier once validation has
run) and lists the errors for the error summary with links to the right input, so templates render
any field through one include: templates/includes/field.html.
"""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

BASE_CLASSES = {
    "input": "govuk-input",
    "textarea": "govuk-textarea",
    "select": "govuk-select",
    "file": "govuk-file-upload",
    "radios": "govuk-radios__input",
    "checkbox": "govuk-checkboxes__input",
    "checkboxes": "govuk-checkboxes__input",
}
ERROR_CLASSES = {
    "input": "govuk-input--error",
    "textarea": "govuk-textarea--error",
    "select": "govuk-select--error",
    "file": "govuk-file-upload--error",
}
# Kinds rendered as a group of inputs inside a fieldset: the error summary links to the first one.
GROUPED_KINDS = {"radios", "checkboxes", "date"}


class GovukFormMixin:
    """GOV.UK classes on widgets, error classes after validation, and error-summary links."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            self.style_field(field)

    @staticmethod
    def style_field(field) -> None:
        """Give a field its GOV.UK kind and class; a form adding a field after __init__ calls
        this for it, or the field renders unstyled and an error on it cannot be shown."""
        widget = field.widget
        field.govuk_kind = kind_of(widget)
        base = BASE_CLASSES.get(field.govuk_kind)
        if base:
            widget.attrs["class"] = " ".join(filter(None, [base, widget.attrs.get("class")]))

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            field = self.fields[name]
            if not hasattr(field, "govuk_kind"):
                self.style_field(field)  # added after __init__ without being styled
            if field.govuk_kind == "date":
                # A date widget draws its own boxes, so it is told rather than given a class.
                field.widget.error = True
                continue
            modifier = ERROR_CLASSES.get(field.govuk_kind)
            if modifier and modifier not in field.widget.attrs.get("class", ""):
                field.widget.attrs["class"] += " " + modifier

    @property
    def govuk_errors(self) -> list[dict]:
        """Every error, in field order, with the id of the input it should move focus to."""
        errors = [{"href": "#" + self.first_input_id(), "text": e} for e in self.non_field_errors()]
        for bound in self:
            for error in bound.errors:
                errors.append({"href": "#" + self.input_id(bound), "text": error})
        return errors

    def input_id(self, bound) -> str:
        if bound.field.govuk_kind in GROUPED_KINDS:
            return bound.auto_id + "_0"
        return bound.auto_id

    def first_input_id(self) -> str:
        for bound in self:
            if not bound.is_hidden:
                return self.input_id(bound)
        return "main-content"

    def add_service_error(self, error: ValidationError, field: str | None = None) -> None:
        add_service_error(self, error, field)


def add_service_error(form: forms.Form, error: ValidationError, field: str | None = None) -> None:
    """Show a service's refusal on the form: each message on its field when the service named one
    the form has, otherwise on the given field (or the form as a whole)."""
    if field is None and hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for message in ValidationError(errors).messages:
                form.add_error(name if name in form.fields else None, message)
        return
    for message in error.messages:
        form.add_error(field, message)


T = TypeVar("T")


def run_service(
    request,
    form,
    action: Callable[[dict], T],
    *,
    success: str | Callable[[T], str],
    error_field: str | None = None,
) -> T | None:
    """Once `form` is submitted and valid, call the service through `action(cleaned_data)` and
    flash `success` (worked out from what the service returned, when it is a function).

    A service refuses with a ValidationError after the form's own checks, for a reason only it
    knows (the request was decided meanwhile, say): that goes onto the form, so the page shows it
    and nothing is saved. Returns what the service returned (every one returns what it saved),
    or None when the page is to be shown again.
    """
    if not form.is_bound or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ValidationError as error:
        add_service_error(form, error, error_field)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def kind_of(widget) -> str:
    """Which markup templates/includes/field.html draws for the widget. A widget that draws its
    own markup (a GOV.UK date input) says so with a `govuk_kind` attribute."""
    declared = getattr(widget, "govuk_kind", None)
    if declared:
        return declared
    # Before RadioSelect: Django's CheckboxSelectMultiple is a subclass of it.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return "file"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"
