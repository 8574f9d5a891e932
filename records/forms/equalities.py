"""The equality monitoring questions, asked the way the census asks them."""

from django import forms

from records.models import EqualityMonitoring
from tmo.forms import GovukFormMixin


def _question(label: str, choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select an answer, or ‘Prefer not to say’",
            "invalid_choice": "Select an answer, or ‘Prefer not to say’",
        },
    )


class EqualityMonitoringForm(GovukFormMixin, forms.ModelForm):
    """Every question needs an answer, and "Prefer not to say" is always one of them: a person
    who would rather answer nothing at all is simply not asked to fill it in."""

    ethnicity = _question("What is their ethnic group?", EqualityMonitoring.Ethnicity)
    first_language = _question("What is their first language?", EqualityMonitoring.Language)
    gender = _question("What is their gender?", EqualityMonitoring.Gender)
    disability = _question(
        "Do they have a physical or mental health condition or illness that has lasted or is "
        "expected to last 12 months or more, and reduces their ability to carry out day-to-day "
        "activities?",
        EqualityMonitoring.Disability,
    )
    religion = _question("What is their religion or belief?", EqualityMonitoring.Religion)
    sexual_orientation = _question(
        "Which best describes their sexual orientation?", EqualityMonitoring.SexualOrientation
    )

    class Meta:
        model = EqualityMonitoring
        fields = list(EqualityMonitoring.ANSWER_FIELDS)
