"""Re-authentication before a decision that releases or widens access (a grant, a disclosure,
a bundle release, emergency access): the user types their password again on the same form."""

from django import forms
from django.core.exceptions import ValidationError


class PasswordConfirmationMixin(forms.Form):
    """Add to a decision form built with `user=`; `clean_password` checks it is theirs."""

    password = forms.CharField(
        label="Your password",
        help_text="Enter your password again to confirm this decision.",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_password(self):
        password = self.cleaned_data.get("password", "")
        confirm_password(self.user, password)
        return ""


def confirm_password(user, password: str) -> None:
    if not password or not user.check_password(password):
        raise ValidationError("The password is not right. Enter your password to confirm.")
