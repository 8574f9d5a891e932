"""Rights-request pages: the resident portal.

Public pages (activation, the request form, the emailed links) show no personal data and answer
matched and unmatched details alike. Portal pages are for the tenant role and find every request
through sar.services.portal.portal_request_for, so another resident's id is a 404, the same as
one that does not exist. The staff pages at the end let handlers reply and read the evidence.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from access.decorators import public, roles_required
from access.policy import get_visible_or_404
from access.roles import Role
from access.services.breaches import report_data_problem
from records.forms.people import GovukDateField
from records.models import Person
from records.services import person_open, record_open
from sar.models import IdentityEvidence, PortalVerification, SubjectAccessRequest
from sar.models.requests import HANDLER_ROLES
from sar.services import portal as services
from sar.services import requests as request_services
from tmo.forms import GovukFormMixin, run_service

CODE_ISSUER_ROLES = (Role.HOUSING_OFFICER, Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD)
BACKEND = "django.contrib.auth.backends.ModelBackend"


# Forms


class PasswordFields(forms.Form):
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters. Avoid common words and your name.",
    )
    password2 = forms.CharField(
        label="Enter the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The passwords do not match")
        return cleaned


class CodeActivationForm(GovukFormMixin, PasswordFields):
    code = forms.CharField(
        label="Activation code",
        max_length=20,
        help_text="The 12-character code printed on your tenancy letter, for example ABCD-EFGH-JKLM.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label="Email address",
        help_text="You will use this to sign in.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )

    field_order = ["code", "email", "password1", "password2"]


class EmailActivationForm(GovukFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="The email address you gave us for your tenancy.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    date_of_birth = GovukDateField(
        label="Date of birth", past_only=True, help_text="For example, 27 3 1980"
    )
    postcode = forms.CharField(
        label="Postcode of your home",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )


class SetPasswordForm(GovukFormMixin, PasswordFields):
    pass


class RequestFields(forms.Form):
    kind = forms.ChoiceField(
        label="What are you asking us to do?",
        choices=SubjectAccessRequest.Kind.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label="Tell us about your request",
        max_length=5000,
        help_text="For a copy of your data: say if you want all of it, or describe the parts you "
        "want. For the other rights: say which data and what you want done.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    date_from = GovukDateField(
        label="Only data from (optional)", required=False, help_text="For example, 1 4 2023"
    )
    date_to = GovukDateField(
        label="Only data up to (optional)", required=False, help_text="For example, 31 3 2024"
    )
    acting_for_someone = forms.BooleanField(
        label="I am asking on behalf of someone else",
        required=False,
        help_text="For example as their solicitor, attorney or support worker. We check the "
        "authority we hold on record, or ask you for it.",
    )
    represented_name = forms.CharField(
        label="Name of the person you act for (if you act for someone)",
        max_length=200,
        required=False,
    )
    representative_relationship = forms.CharField(
        label="How you act for them (if you act for someone)",
        max_length=200,
        required=False,
        help_text="For example solicitor, lasting power of attorney, parent.",
    )


class TenantRequestForm(GovukFormMixin, RequestFields):
    evidence = forms.FileField(
        label="Proof of identity (only if you act for someone else)",
        required=False,
        help_text="A PDF, JPG or PNG of the authority you hold. You are signed in, so we do not "
        "need proof of your own identity.",
    )


class PublicRequestForm(GovukFormMixin, RequestFields):
    name = forms.CharField(label="Your full name", max_length=200)
    email = forms.EmailField(
        label="Your email address",
        help_text="We will send you a link to confirm the request.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    address = forms.CharField(
        label="Your postal address",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )

    field_order = ["name", "email", "address"]


class EvidenceForm(GovukFormMixin, forms.Form):
    evidence = forms.FileField(
        label="Proof of identity",
        help_text="A PDF, JPG or PNG: for example a passport, driving licence or a recent bill.",
    )


class OptionalEvidenceForm(GovukFormMixin, forms.Form):
    evidence = forms.FileField(
        label="Proof of identity (optional)",
        required=False,
        help_text="A PDF, JPG or PNG: for example a passport or driving licence, and a recent "
        "bill showing your address. If you do not upload it now we will write to ask for it.",
    )


class MessageForm(GovukFormMixin, forms.Form):
    body = forms.CharField(
        label="Your message", max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class DataProblemForm(GovukFormMixin, forms.Form):
    description = forms.CharField(
        label="What is wrong?",
        max_length=5000,
        help_text="For example: you saw someone else's details after signing in; a letter or "
        "email about you went to someone else; your details were shared when they should not "
        "have been. You need not copy the details themselves here.",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Tell us what is wrong"},
    )


class ReviewForm(GovukFormMixin, forms.Form):
    grounds = forms.CharField(
        label="What do you disagree with?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter what you disagree with"},
    )


def _client_ip(request) -> str:
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or ""


def _link_builder(request, name):
    def link_for(token):
        return request.build_absolute_uri(reverse(name, args=[token]))

    return link_for


def _sent(request, message):
    return render(request, "sar/portal_sent.html", {"message": message})


def _too_many(request, template, form):
    form.add_error(None, services.TOO_MANY_TRIES)
    return render(request, template, {"form": form}, status=429)


# Public pages


@public
@never_cache
def portal_activate(request):
    form = CodeActivationForm(request.POST or None)
    template = "sar/portal_activate.html"
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if services.rate_limited(scope="activate-code", ip=_client_ip(request), email=email):
            return _too_many(request, template, form)
        try:
            user = services.activate_with_code(
                code=form.cleaned_data["code"], email=email, password=form.cleaned_data["password1"]
            )
        except ValidationError as error:
            form.add_service_error(error, "password1")
        else:
            if user is not None:
                login(request, user, backend=BACKEND)
                messages.success(request, "Your account is ready.")
                return redirect("portal_home")
            form.add_error(None, services.CODE_REFUSED)
        # The code is not shown back: the same page whether it was wrong, old or used.
        form.data = form.data.copy()
        form.data["code"] = ""
    return render(request, template, {"form": form})


@public
@never_cache
def portal_activate_email(request):
    form = EmailActivationForm(request.POST or None)
    template = "sar/portal_activate_email.html"
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if services.rate_limited(scope="activate-email", ip=_client_ip(request), email=email):
            return _too_many(request, template, form)
        services.request_email_activation(
            email=email,
            date_of_birth=form.cleaned_data["date_of_birth"],
            postcode=form.cleaned_data["postcode"],
            link_for=_link_builder(request, "portal_activate_email_confirm"),
        )
        return _sent(request, services.ACTIVATION_EMAIL_SENT)
    return render(request, template, {"form": form})


@public
@never_cache
def portal_activate_email_confirm(request, token):
    verification = services.verification_from_token(
        token=token, purpose=PortalVerification.Purpose.ACTIVATE
    )
    if verification is None:
        return render(request, "sar/portal_link_refused.html", {"message": services.LINK_REFUSED})
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.activate_with_email_link(
                verification=verification, password=form.cleaned_data["password1"]
            )
        except ValidationError as error:
            form.add_service_error(error, "password1")
        else:
            if user is None:
                return render(
                    request, "sar/portal_link_refused.html", {"message": services.LINK_REFUSED}
                )
            login(request, user, backend=BACKEND)
            messages.success(request, "Your account is ready.")
            return redirect("portal_home")
    return render(request, "sar/portal_set_password.html", {"form": form})


@public
@never_cache
def portal_request_form(request):
    form = PublicRequestForm(request.POST or None)
    template = "sar/portal_request_form.html"
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if services.rate_limited(scope="request", ip=_client_ip(request), email=email):
            return _too_many(request, template, form)
        try:
            services.request_by_email(
                answers=dict(form.cleaned_data),
                link_for=_link_builder(request, "portal_request_confirm"),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _sent(request, services.REQUEST_EMAIL_SENT)
    return render(request, template, {"form": form})


@public
@never_cache
def portal_request_confirm(request, token):
    verification = services.verification_from_token(
        token=token, purpose=PortalVerification.Purpose.REQUEST
    )
    if verification is None:
        return render(request, "sar/portal_link_refused.html", {"message": services.LINK_REFUSED})
    form = OptionalEvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.confirm_emailed_request(
                verification=verification, evidence=form.cleaned_data["evidence"]
            )
        except ValidationError as error:
            form.add_service_error(error, "evidence")
        else:
            if created is None:
                return render(
                    request, "sar/portal_link_refused.html", {"message": services.LINK_REFUSED}
                )
            return render(request, "sar/portal_request_received.html")
    return render(request, "sar/portal_request_confirm.html", {"form": form})


# The tenant's own pages


def _mine_or_404(request, pk) -> SubjectAccessRequest:
    found = services.portal_request_for(request.user, pk)
    if found is None:
        raise Http404
    return found


@roles_required(Role.TENANT)
def portal_home(request):
    link = services.link_of(request.user)
    rows = services.portal_requests_for(request.user)
    return render(request, "sar/portal_home.html", {"link": link, "rights_requests": rows})


@roles_required(Role.TENANT)
def portal_request_new(request):
    link = services.link_of(request.user)
    form = TenantRequestForm(request.POST or None, request.FILES or None)
    if link is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.portal_request_create(
                account=request.user,
                kind=data["kind"],
                details=data["details"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                acting_for_someone=data["acting_for_someone"],
                represented_name=data["represented_name"],
                representative_relationship=data["representative_relationship"],
                evidence=data["evidence"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Your request %s has been sent." % created.reference)
            return redirect("portal_request_detail", pk=created.pk)
    return render(request, "sar/portal_request_new.html", {"form": form, "link": link})


@roles_required(Role.TENANT)
def portal_request_detail(request, pk):
    found = _mine_or_404(request, pk)
    return render(
        request,
        "sar/portal_request_detail.html",
        {
            "sar": found,
            "portal_messages": found.portal_messages.all(),
            "evidence": found.identity_evidence.all(),
            "bundle": services.bundle_offered(found),
            "form": MessageForm(),
            "reviews": found.internal_reviews.all(),
            "may_ask_for_review": request_services.may_ask_for_review(found),
            "ico_text": request_services.ICO_COMPLAINT_TEXT,
        },
    )


@roles_required(Role.TENANT)
def portal_request_message(request, pk):
    found = _mine_or_404(request, pk)
    form = MessageForm(request.POST or None)
    if run_service(
        request,
        form,
        lambda data: services.portal_message_send(
            account=request.user, request=found, body=data["body"]
        ),
        success="Your message has been sent.",
    ):
        return redirect("portal_request_detail", pk=found.pk)
    return render(request, "sar/portal_message_form.html", {"form": form, "sar": found})


@roles_required(Role.TENANT)
def portal_request_review(request, pk):
    found = _mine_or_404(request, pk)
    if not request_services.may_ask_for_review(found):
        return redirect("portal_request_detail", pk=found.pk)
    form = ReviewForm(request.POST or None)
    if run_service(
        request,
        form,
        lambda data: request_services.internal_review_request(
            account=request.user, request=found, grounds=data["grounds"]
        ),
        success="Your request for a review has been sent.",
    ):
        return redirect("portal_request_detail", pk=found.pk)
    return render(request, "sar/portal_review_form.html", {"form": form, "sar": found})


@roles_required(Role.TENANT)
def portal_data_problem(request):
    """A resident reports a problem with their data: it reaches the data protection lead at once
    as a suspected breach, with the resident's own record (if linked) as the first affected."""
    link = services.link_of(request.user)
    form = DataProblemForm(request.POST or None)
    if run_service(
        request,
        form,
        lambda data: report_data_problem(
            account=request.user,
            description=data["description"],
            subject=link.person if link is not None else None,
        ),
        success="Thank you. Your report has gone to our data protection lead, who will look "
        "into it and contact you.",
        error_field="description",
    ):
        return redirect("portal_home")
    return render(request, "sar/portal_data_problem.html", {"form": form})


@roles_required(Role.TENANT)
def portal_request_evidence(request, pk):
    found = _mine_or_404(request, pk)
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if run_service(
        request,
        form,
        lambda data: services.portal_evidence_add(
            account=request.user, request=found, upload=data["evidence"]
        ),
        success="Thank you. We will check your proof of identity.",
        error_field="evidence",
    ):
        return redirect("portal_request_detail", pk=found.pk)
    return render(request, "sar/portal_evidence_form.html", {"form": form, "sar": found})


@roles_required(Role.TENANT)
def portal_bundle_download(request, pk):
    found = _mine_or_404(request, pk)
    bundle, data = services.portal_bundle_open(
        account=request.user, request=found, remote_addr=_client_ip(request)
    )
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="%s.zip" % found.reference
    )
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# Staff pages


@roles_required(*HANDLER_ROLES)
def portal_staff_messages(request, pk):
    found = get_visible_or_404(SubjectAccessRequest, request.user, pk=pk)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_message_send(
                sent_by=request.user, request=found, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Your message has been sent to the requester.")
            return redirect("portal_staff_messages", pk=found.pk)
    record_open(user=request.user, obj=found)
    return render(
        request,
        "sar/portal_staff_messages.html",
        {
            "sar": found,
            "portal": getattr(found, "portal", None),
            "portal_messages": found.portal_messages.select_related("author"),
            "evidence": found.identity_evidence.all(),
            "form": form,
        },
    )


@roles_required(*HANDLER_ROLES)
def portal_staff_evidence(request, pk):
    evidence = get_object_or_404(
        IdentityEvidence,
        pk=pk,
        request__in=SubjectAccessRequest.objects.visible_to(request.user),
    )
    data = services.evidence_open(user=request.user, evidence=evidence)
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
        evidence.content_type, "txt"
    )
    response = HttpResponse(data, content_type=evidence.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="identity-evidence-%s.%s" % (evidence.pk, extension)
    )
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@roles_required(*CODE_ISSUER_ROLES)
@never_cache
def portal_activation_code_issue(request, pk):
    person = get_visible_or_404(Person.objects.prefetch_related("markers"), request.user, pk=pk)
    person_open(user=request.user, person=person)
    code = None
    error = None
    if request.method == "POST":
        try:
            code = services.issue_activation_code(issued_by=request.user, person=person)
        except ValidationError as refused:
            error = refused.messages[0]
        except PermissionDenied:
            raise Http404 from None
    return render(
        request,
        "sar/portal_activation_code.html",
        {"person": person, "code": code, "error": error, "days": services.ACTIVATION_CODE_DAYS},
    )


urlpatterns = [
    path("", portal_home, name="portal_home"),
    path("activate/", portal_activate, name="portal_activate"),
    path("activate/email/", portal_activate_email, name="portal_activate_email"),
    path(
        "activate/email/<str:token>/",
        portal_activate_email_confirm,
        name="portal_activate_email_confirm",
    ),
    path("ask/", portal_request_form, name="portal_request_form"),
    path("ask/<str:token>/", portal_request_confirm, name="portal_request_confirm"),
    path("requests/new/", portal_request_new, name="portal_request_new"),
    path("problem/", portal_data_problem, name="portal_data_problem"),
    path("requests/<int:pk>/", portal_request_detail, name="portal_request_detail"),
    path("requests/<int:pk>/message/", portal_request_message, name="portal_request_message"),
    path("requests/<int:pk>/review/", portal_request_review, name="portal_request_review"),
    path("requests/<int:pk>/identity/", portal_request_evidence, name="portal_request_evidence"),
    path("requests/<int:pk>/bundle/", portal_bundle_download, name="portal_bundle_download"),
    path("staff/requests/<int:pk>/", portal_staff_messages, name="portal_staff_messages"),
    path("staff/evidence/<int:pk>/", portal_staff_evidence, name="portal_staff_evidence"),
    path(
        "staff/people/<int:pk>/activation-code/",
        portal_activation_code_issue,
        name="portal_activation_code_issue",
    ),
]
