"""Optimistic concurrency for the staff edit forms: two people editing one record at once.

A versioned model counts its saves in `edit_version`. The edit form carries the version it was
drawn from in a hidden field; the service locks the row and refuses the save when the version has
moved on, so the second person is told and shown what the first saved, rather than silently
overwriting it. Their own input stays on the page.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

STALE_MESSAGE = (
    "Someone else changed this record while you were editing it. Your changes have not been "
    "saved; here is what they saved. Check your changes against it and save again if they "
    "are still right."
)


class VersionedModel(models.Model):
    """Counts its saves, so an edit form can tell that the row changed under it."""

    edit_version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Goes up by one at every save; edit forms compare it to refuse a stale save.",
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.edit_version = (self.edit_version or 0) + 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "edit_version"}
        super().save(*args, **kwargs)


class StaleEdit(ValidationError):
    """The row was saved by someone else after the form was drawn; `current` is what they saved."""

    def __init__(self, current):
        super().__init__(STALE_MESSAGE, code="stale")
        self.current = current


def lock_current(instance, expected_version: int | None = None):
    """Lock the stored row of `instance` and return it; refuse with StaleEdit when it is no longer
    the version the form was drawn from (`expected_version`, or the `drawn_version` a view set on
    the instance). Call inside the service's transaction, before saving."""
    if expected_version is None:
        expected_version = getattr(instance, "drawn_version", None)
    current = type(instance)._base_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and current.edit_version != expected_version:
        raise StaleEdit(current)
    # save() counts on from the stored version, whatever the instance was loaded with.
    instance.edit_version = current.edit_version
    return current


class VersionedFormMixin:
    """For a ModelForm of a VersionedModel: the hidden version, and the refusal shown when it is
    stale. `form.drawn_version` is the version to hand to the service (None on a new row)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None:
            self.fields["edit_version"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, initial=instance.edit_version
            )

    @property
    def drawn_version(self) -> int | None:
        if "edit_version" not in self.fields:
            return None
        return self.cleaned_data.get("edit_version")

    def show_stale(self, stale: StaleEdit) -> None:
        for message in stale_messages(self, stale):
            self.add_error(None, message)


def add_version_field(form, instance) -> None:
    """The hidden version, for a plain form that edits `instance` (not a VersionedFormMixin)."""
    form.fields["edit_version"] = forms.IntegerField(
        widget=forms.HiddenInput, required=False, initial=instance.edit_version
    )


def stale_messages(form, stale: StaleEdit, attributes: dict[str, str] | None = None) -> list[str]:
    """What to tell the second person: that someone else saved, and each value they saved that
    differs from this person's input (`attributes` names the model attribute of a form field
    named otherwise). The form takes the new version, so saving again is a deliberate choice
    made having seen their changes; the person's own input stays."""
    messages = [STALE_MESSAGE]
    cleaned = getattr(form, "cleaned_data", {})
    current = stale.current
    # Lists of related rows (who attended) are not shown value by value.
    many_valued = {f.name for f in current._meta.get_fields() if f.many_to_many or f.one_to_many}
    for name, field in form.fields.items():
        attribute = (attributes or {}).get(name, name)
        if name == "edit_version" or attribute in many_valued or not hasattr(current, attribute):
            continue
        value = getattr(current, attribute)
        mine = cleaned.get(name, form.data.get(form.add_prefix(name)))
        if value != mine and not (value in (None, "", []) and mine in (None, "", [])):
            display = getattr(current, "get_%s_display" % attribute, None)
            shown = display() if display else value
            messages.append(
                "They saved %s: %s" % (field.label or name, shown if shown != "" else "(blank)")
            )
    form.data = form.data.copy()
    form.data[form.add_prefix("edit_version")] = current.edit_version
    return messages
