"""Access workflows: accounts. Two-factor sign-in, recovery codes, and the sessions of each account.

Every account except a tenant's signs in with a password and then a code from an authenticator
app (TOTP) or a one-time recovery code. Each signed-in session is tracked (UserSession), so that
signing out, or an administrator disabling the account, ends every session the account has.
"""

import time
from base64 import b32encode
from importlib import import_module

import segno
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import UserSession
from access.roles import Role, roles_of

# Session keys, read by access.middleware.SessionTimeoutMiddleware.
SIGNED_IN_AT = "tmo_signed_in_at"
LAST_SEEN_AT = "tmo_last_seen_at"
# Recovery codes made a moment ago, shown once on the next page and then forgotten.
NEW_RECOVERY_CODES = "tmo_new_recovery_codes"
# Activity is written to the session at most this often, so that a run of requests does not
# rewrite the session every time; the idle limit is therefore kept to within this many seconds.
ACTIVITY_WRITE_INTERVAL = 60

TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
DEMO_DEVICE_NAME = "Demo (fixed code)"

WRONG_CODE = "The code is not right. Enter the 6-digit code from your app, or a recovery code."
TOO_MANY_TRIES = (
    "You have entered too many wrong codes. Wait a minute, then enter the code your app shows now."
)


# Who needs the second factor


def two_factor_required(user) -> bool:
    """Everyone but a tenant: an account with only the tenant role (and no admin flags) signs in
    with a password; any other account, even one with no role yet, needs the second factor."""
    if not user.is_authenticated:
        return False
    tenant_only = roles_of(user) == {Role.TENANT} and not (user.is_staff or user.is_superuser)
    return not tenant_only


def is_verified(user) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def needs_second_factor(user) -> bool:
    """Signed in with a password, and still to give the second factor."""
    return two_factor_required(user) and not is_verified(user)


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def remaining_recovery_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def demo_code_enabled() -> bool:
    """The demo's fixed code works only with DEMO_MODE, DEBUG and the code itself all set, which
    only development settings do (production refuses to start with the code set)."""
    return bool(
        getattr(settings, "DEMO_MODE", False)
        and settings.DEBUG
        and getattr(settings, "DEMO_FIXED_OTP_CODE", "")
    )


# Setting up the authenticator app


def pending_totp_device(*, user) -> TOTPDevice:
    """The unconfirmed device being set up, the same one on every visit until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def secret_for_display(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The set-up QR code as inline SVG, made on the server: no script and no image request."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", dark="#0b0c0c", title="QR code for your authenticator app"
    )


def confirm_totp_device(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a code it made; then make the recovery codes. None if the code is
    wrong (the failure is kept: the device's throttling counts it)."""
    if device.user_id != user.pk or device.confirmed:
        return None
    if not device.verify_is_allowed()[0] or not device.verify_token(_normalise(code)):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return issue_recovery_codes(user=user)


@transaction.atomic
def issue_recovery_codes(*, user) -> list[str]:
    """Ten new one-time recovery codes; any earlier ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = []
    while len(codes) < settings.RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# The second step of signing in


class CodeRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def verify_second_factor(*, user, code: str):
    """The device that accepts `code` (authenticator app, recovery code, or in the demo only the
    fixed code). Raises CodeRefused with the message to show. Each device throttles wrong codes
    itself; the caller also counts the failure towards the lockout."""
    code = _normalise(code)
    if not code:
        raise CodeRefused("Enter the code from your authenticator app")
    if demo_code_enabled() and constant_time_compare(code, settings.DEMO_FIXED_OTP_CODE):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name=DEMO_DEVICE_NAME, defaults={"confirmed": True}
        )
        return device
    if code.isdigit():
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    else:
        devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
    if devices and not any(device.verify_is_allowed()[0] for device in devices):
        raise CodeRefused(TOO_MANY_TRIES)
    for device in devices:
        # verify_token keeps the throttling counts, so each try runs in its own transaction.
        with transaction.atomic():
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    raise CodeRefused(WRONG_CODE)


def complete_second_factor(*, request, device) -> None:
    """Mark the session verified by `device`, under a new session key: the session has just
    gained its full rights, so a key seen before this moment must not carry them."""
    old_key = request.session.session_key
    request.session.cycle_key()
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
    otp_login(request, device)


def _normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


# Sessions


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def end_all_sessions(*, user) -> int:
    """End every tracked session of the account, in the session store itself."""
    store = _session_store()
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


@transaction.atomic
def reset_second_factor(*, reset_by, user) -> None:
    """For someone who lost both their app and their recovery codes: remove their devices and end
    their sessions, so their next sign-in sets up a new app. Never on one's own account, so a
    stolen administrator password cannot be used to replace the administrator's own app."""
    from django.core.exceptions import ValidationError

    from tmo.audit import record_event

    if reset_by.pk == user.pk:
        raise ValidationError(
            "You cannot reset your own two-factor sign-in; ask another administrator."
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    end_all_sessions(user=user)
    record_event(actor=reset_by, obj=user, event="two_factor_reset")


def sessions_of(user):
    return UserSession.objects.filter(user=user)


def note_activity(*, request, now: float) -> None:
    """Called by the timeout middleware on each request that keeps the session alive."""
    last = request.session.get(LAST_SEEN_AT, 0)
    if now - last < ACTIVITY_WRITE_INTERVAL:
        return
    request.session[LAST_SEEN_AT] = now
    UserSession.objects.filter(session_key=request.session.session_key).update(
        last_seen_at=timezone.now()
    )


@receiver(user_logged_in, dispatch_uid="access.accounts.session_started")
def _session_started(sender, request, user, **kwargs):
    # login() has already given the session a new key; make sure it is stored.
    if request.session.session_key is None:
        request.session.save()
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now
    # Rows of sessions that ran out without a sign-out go when the account next signs in.
    UserSession.objects.filter(
        user=user, created_at__lt=timezone.now() - settings.SESSION_ABSOLUTE_LIMIT
    ).delete()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": get_client_ip_address(request) or None,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
        },
    )


@receiver(user_logged_out, dispatch_uid="access.accounts.session_ended")
def _session_ended(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    if request is not None:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)


@receiver(post_save, sender=get_user_model(), dispatch_uid="access.accounts.account_disabled")
def _account_disabled(sender, instance, created, **kwargs):
    # However the account is disabled (admin, shell, a service), its sessions end at once.
    if not created and not instance.is_active:
        end_all_sessions(user=instance)
