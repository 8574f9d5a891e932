"""Signing in (password, then an authenticator code or recovery code), and signing out."""

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib.auth import logout, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from access.decorators import ViewPolicy, roles_required, signed_in
from access.middleware import two_factor_exempt
from access.roles import Role
from access.services import accounts
from tmo import datamap
from tmo.retention import schedule_for


@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    access_policy = ViewPolicy(name="public", public=True)
    two_factor_exempt = True
    template_name = "access/sign_in.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        url = super().get_success_url()
        if accounts.needs_second_factor(self.request.user):
            return _with_next(reverse("two_factor_verify"), url)
        return url


@method_decorator(login_not_required, name="dispatch")
class SignOutView(auth_views.LogoutView):
    """Signing out ends every session of the account, on every device, not only this one."""

    access_policy = ViewPolicy(name="public", public=True)
    two_factor_exempt = True

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            accounts.end_all_sessions(user=request.user)
        return super().post(request, *args, **kwargs)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        strip=True,
        error_messages={"required": "Enter the code from your authenticator app"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "spellcheck": "false",
                "autocapitalize": "none",
                "class": "govuk-input govuk-input--width-10",
            }
        ),
    )


@two_factor_exempt
@signed_in
def two_factor_verify(request):
    """The second step: a code from the authenticator app, or one of the recovery codes."""
    user = request.user
    next_url = _next_url(request)
    if not accounts.needs_second_factor(user):
        return redirect(next_url)
    demo = accounts.demo_code_enabled()
    if accounts.confirmed_totp_device(user) is None and not demo:
        return redirect(_with_next(reverse("two_factor_setup"), next_url))
    if _locked_out(request):
        return _lock_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = accounts.verify_second_factor(user=user, code=form.cleaned_data["code"])
        except accounts.CodeRefused as refused:
            form.add_error("code", refused.message)
            if _count_failure(request):
                return _lock_out(request)
        else:
            _second_factor_given(request, device)
            return redirect(next_url)
    return render(
        request,
        "access/accounts/two_factor_verify.html",
        {
            "form": form,
            "next": next_url,
            "demo_code": settings.DEMO_FIXED_OTP_CODE if demo else "",
            "can_set_up": accounts.confirmed_totp_device(user) is None,
        },
    )


@two_factor_exempt
@signed_in
def two_factor_setup(request):
    """First sign-in: add the account to an authenticator app, and confirm it with a code."""
    user = request.user
    next_url = _next_url(request)
    if not accounts.needs_second_factor(user):
        return redirect(next_url)
    if accounts.confirmed_totp_device(user) is not None:
        # Only an account with no app yet may add one; otherwise a password alone could.
        return redirect(_with_next(reverse("two_factor_verify"), next_url))
    if _locked_out(request):
        return _lock_out(request)
    device = accounts.pending_totp_device(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = accounts.confirm_totp_device(
            user=user, device=device, code=form.cleaned_data["code"]
        )
        if codes is None:
            form.add_error("code", "The code is not right. Enter the 6-digit code your app shows")
            if _count_failure(request):
                return _lock_out(request)
        else:
            _second_factor_given(request, device)
            request.session[accounts.NEW_RECOVERY_CODES] = codes
            return redirect(_with_next(reverse("two_factor_recovery_codes"), next_url))
    return render(
        request,
        "access/accounts/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "secret": accounts.secret_for_display(device),
            # segno writes the SVG from the device's own URL: no user input reaches it.
            "qr_code": mark_safe(accounts.qr_code_svg(device)),  # noqa: S308
        },
    )


@signed_in
def two_factor_recovery_codes(request):
    """The recovery codes just made, shown this once and never again."""
    codes = request.session.pop(accounts.NEW_RECOVERY_CODES, None)
    next_url = _next_url(request)
    if not codes:
        return redirect(next_url)
    return render(
        request,
        "access/accounts/two_factor_recovery_codes.html",
        {"codes": codes, "next": next_url},
    )


@roles_required(Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER)
def data_map(request):
    """The organisation's inventory of what it holds, read straight from the personal-data map."""
    entries = sorted(
        datamap.entries(), key=lambda e: (e.model._meta.app_label, e.model._meta.verbose_name)
    )
    # The period in force is the retention schedule's, which the DPO may have changed.
    rows = [(entry, schedule_for(entry)) for entry in entries]
    return render(request, "access/data_map.html", {"entries": rows})


def _second_factor_given(request, device) -> None:
    accounts.complete_second_factor(request=request, device=device)
    # Failures count until both factors are given, so a known password cannot reset the count.
    ip_address = get_client_ip_address(request)
    if ip_address:
        axes_reset(ip=ip_address, username=request.user.get_username())


def _credentials(request) -> dict:
    return {settings.AXES_USERNAME_FORM_FIELD: request.user.get_username()}


def _locked_out(request) -> bool:
    return AxesProxyHandler.is_locked(request, _credentials(request))


def _count_failure(request) -> bool:
    """A wrong code counts towards the lockout for this username and address, as a wrong
    password does. True when this failure locked them out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(request), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def _lock_out(request):
    logout(request)
    # The lockout page is drawn here; the flag would make Axes's middleware draw it again.
    request.axes_locked_out = False
    return locked_out(request)


def locked_out(request, original_response=None, credentials=None):
    """The lockout page (AXES_LOCKOUT_CALLABLE): Axes shows it instead of the sign-in page."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "access/accounts/locked_out.html", {"minutes": minutes}, status=429)


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, next_url: str) -> str:
    return "%s?%s" % (url, urlencode({"next": next_url}))
