"""Whether a user may read confidential records at all: a signed undertaking to the current
confidentiality code and in-date data protection training. Answered once per request.

Who it applies to: anyone holding a staff role or the committee member role. Tenants see only their
own data through the rights-request portal, and system administrators see no records at all, so
neither has anything to sign or renew; a user holding one of those roles *and* a staff or
committee role is held to the requirement like any other staff member.

It fails closed: until the organisation has published a confidentiality code, nobody it applies to
may read records (the data migration publishes version 1, so this only bites a database set up by
hand). A code published later asks everyone to sign again.
"""

from django.contrib import messages
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join

from access.roles import STAFF_ROLES, Role, roles_of

REQUIRED_ROLES = STAFF_ROLES | {Role.COMMITTEE_MEMBER}
NO_CODE_MESSAGE = (
    "The organisation has not published its confidentiality code yet, so nobody can open records. "
    "Ask the data protection lead to publish it."
)


def may_read_records(user) -> bool:
    cached = getattr(user, "_tmo_may_read", None)
    roles = roles_of(user)
    if cached is None or cached[0] != roles:
        cached = (roles, not compliance_problems(user))
        user._tmo_may_read = cached
    return cached[1]


def is_required(user) -> bool:
    """Whether the undertaking and training apply to this user at all."""
    return bool(roles_of(user) & REQUIRED_ROLES)


def compliance_problems(user) -> list[str]:
    """Plain-English reasons the user may not read records now; empty when they may.

    Two queries (the current code with whether the user signed it; every module with the user's
    latest expiry), on top of the roles already read for the request; kept on the user object,
    keyed on their roles so that a role change within the request is not answered from stale data.
    """
    roles = roles_of(user)
    cached = getattr(user, "_tmo_compliance", None)
    if cached is not None and cached[0] == roles:
        return list(cached[1])
    problems = _problems(user, roles) if roles & REQUIRED_ROLES else []
    user._tmo_compliance = (roles, tuple(problems))
    return problems


def forget_compliance(user) -> None:
    """Drop the per-request answer, after the user signs or their training is recorded."""
    for name in ("_tmo_compliance", "_tmo_may_read"):
        if hasattr(user, name):
            delattr(user, name)


def _problems(user, roles) -> list[str]:
    from django.db.models import Exists, Max, OuterRef, Q

    from access.models import ConfidentialityCode, TrainingModule, Undertaking

    problems = []
    code = (
        ConfidentialityCode.objects.current()
        .annotate(signed=Exists(Undertaking.objects.filter(user=user, code=OuterRef("pk"))))
        .values("version", "signed")
        .first()
    )
    if code is None:
        problems.append(NO_CODE_MESSAGE)
    elif not code["signed"]:
        problems.append(
            "You have not signed version %s of the confidentiality code." % code["version"]
        )
    today = timezone.localdate()
    modules = TrainingModule.objects.annotate(
        expires=Max("records__expires_on", filter=Q(records__user=user))
    ).order_by("name")
    for module in modules:
        if not module.applies_to(roles):
            continue
        if module.expires is None:
            problems.append(
                "You have not completed the data protection training '%s'." % module.name
            )
        elif module.expires <= today:
            problems.append(
                "Your data protection training '%s' expired on %s."
                % (module.name, long_date(module.expires))
            )
    return problems


def long_date(day) -> str:
    return dateformat.format(day, "j F Y")


class ComplianceNoticeMiddleware:
    """Tell a signed-in user who may not read records why, on every page they open.

    A warning message, once per request and never twice in the queue, on GET pages that a browser
    asks for as HTML. Signing out, the code page and the status page are left alone: they are how
    the user puts it right. Must sit after the authentication and message middleware.
    """

    EXEMPT_URL_NAMES = frozenset({"login", "logout", "compliance_code", "compliance_status"})
    TAG = "compliance"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "GET" or not self._wants_html(request):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.EXEMPT_URL_NAMES:
            return None
        problems = compliance_problems(user)
        if problems:
            self._add_once(request, notice_html(problems))
        return None

    @staticmethod
    def _wants_html(request) -> bool:
        accept = request.headers.get("Accept", "")
        return not accept or "text/html" in accept or "*/*" in accept

    def _add_once(self, request, text) -> None:
        storage = messages.get_messages(request)
        already = any(
            self.TAG in message.extra_tags and str(message.message) == str(text)
            for message in storage
        )
        # Reading the queue marks it used; this was only a look, so keep the messages for the page.
        storage.used = False
        if not already:
            messages.warning(request, text, extra_tags=self.TAG)


def notice_html(problems: list[str]):
    return format_html(
        "You cannot open confidential records until this is put right. {} "
        '<a class="govuk-notification-banner__link" href="{}">Why can’t I see records?</a>',
        format_html_join(" ", "{}", ((problem,) for problem in problems)),
        reverse("compliance_status"),
    )
