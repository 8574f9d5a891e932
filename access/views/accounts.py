"""Access pages: accounts. Where the account is signed in, and its recovery codes."""

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.urls import path, reverse

from access.decorators import signed_in
from access.reauth import PasswordConfirmationMixin
from access.services import accounts


class NewRecoveryCodesForm(PasswordConfirmationMixin):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


@signed_in
def account_security(request):
    return _security_page(request, NewRecoveryCodesForm(user=request.user))


def _security_page(request, form):
    user = request.user
    return render(
        request,
        "access/accounts/security.html",
        {
            "sessions": accounts.sessions_of(user),
            "current_key": request.session.session_key,
            "has_app": accounts.confirmed_totp_device(user) is not None,
            "recovery_codes_left": accounts.remaining_recovery_codes(user),
            "form": form,
        },
    )


@signed_in
def account_sign_out_everywhere(request):
    """Ends every session of the account, this one included (GET shows the page instead)."""
    if request.method != "POST":
        return redirect("account_security")
    accounts.end_all_sessions(user=request.user)
    logout(request)
    messages.success(request, "You have been signed out on every device.")
    return redirect("login")


@signed_in
def account_recovery_codes_new(request):
    """New recovery codes, after the password again: the old ones stop working."""
    if request.method != "POST":
        return redirect("account_security")
    form = NewRecoveryCodesForm(request.POST, user=request.user)
    if not form.is_valid():
        return _security_page(request, form)
    request.session[accounts.NEW_RECOVERY_CODES] = accounts.issue_recovery_codes(user=request.user)
    return redirect(
        "%s?next=%s" % (reverse("two_factor_recovery_codes"), reverse("account_security"))
    )


urlpatterns = [
    path("security/", account_security, name="account_security"),
    path("sign-out-everywhere/", account_sign_out_everywhere, name="account_sign_out_everywhere"),
    path("recovery-codes/", account_recovery_codes_new, name="account_recovery_codes_new"),
]
