"""The published code and inventory: the public inventory of what is held (UK GDPR Art. 30), the
generated Code of Confidentiality for staff and committee members, each as a page and a PDF, and
the data protection lead's check that the published code still matches the system."""

import functools

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone

from access import published
from access.compliance import REQUIRED_ROLES
from access.dashboard import Panel, dashboard_panel
from access.decorators import public, roles_required
from access.reauth import PasswordConfirmationMixin
from access.roles import Role, roles_of
from tmo.forms import GovukFormMixin

DPO = Role.DATA_PROTECTION_LEAD
# Lines of the difference shown on the check page; the count says how many more there are.
DIFF_LINES_SHOWN = 60


class PublishGeneratedCodeForm(GovukFormMixin, PasswordConfirmationMixin):
    version = forms.CharField(
        label="Version number",
        max_length=20,
        help_text="Everyone must sign the new version before opening records again.",
        error_messages={"required": "Enter the version number"},
    )
    reviewed = forms.CharField(widget=forms.HiddenInput)
    field_order = ["version", "password", "reviewed"]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


@functools.lru_cache(maxsize=8)
def _pdf_of(html: str) -> bytes:
    """The same document (nothing in these PDFs depends on who asks) is laid out once."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _pdf(template: str, context: dict, filename: str) -> HttpResponse:
    html = render_to_string(template, context)
    response = HttpResponse(_pdf_of(html), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="%s-%s.pdf"' % (
        filename,
        timezone.localdate().isoformat(),
    )
    return response


# --- the public inventory ------------------------------------------------------------------------


@public
def published_inventory(request):
    """What the organisation holds and why: kinds of record only, never a record."""
    return render(
        request, "access/published/inventory.html", {"inventory": published.build_inventory()}
    )


@public
def published_inventory_pdf(request):
    return _pdf(
        "access/published/inventory_pdf.html",
        {"inventory": published.build_inventory(), "generated_on": timezone.localdate()},
        "records-of-processing",
    )


# --- the code, for the people who sign it ---------------------------------------------------------


def _code_context():
    code = published.build_code()
    comparison = published.compare(code.text())
    return {"code": code, "comparison": comparison, "generated_on": timezone.localdate()}


@roles_required(*REQUIRED_ROLES)
def published_code(request):
    context = _code_context()
    context["is_dpo"] = DPO in roles_of(request.user)
    return render(request, "access/published/code.html", context)


@roles_required(*REQUIRED_ROLES)
def published_code_pdf(request):
    return _pdf("access/published/code_pdf.html", _code_context(), "code-of-confidentiality")


# --- the data protection lead's check -------------------------------------------------------------


@roles_required(DPO)
def published_code_check(request):
    comparison = published.compare()
    form = PublishGeneratedCodeForm(
        request.POST or None,
        user=request.user,
        initial={"version": published.next_version(), "reviewed": comparison.digest},
    )
    if request.method == "POST" and form.is_valid():
        try:
            code = published.publish_generated_code(
                published_by=request.user,
                version=form.cleaned_data["version"],
                reviewed_digest=form.cleaned_data["reviewed"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Version %s of the confidentiality code is published from the system’s "
                "configuration. Everyone must sign it before opening records again." % code.version,
            )
            return redirect("compliance_training")
    if form.is_bound and form.errors:
        # A fresh digest: the page now shows the differences as they are.
        form.data = form.data.copy()
        form.data["reviewed"] = comparison.digest
    context = {
        "comparison": comparison,
        "form": form,
        "removed": comparison.removed[:DIFF_LINES_SHOWN],
        "added": comparison.added[:DIFF_LINES_SHOWN],
        "more_removed": max(0, len(comparison.removed) - DIFF_LINES_SHOWN),
        "more_added": max(0, len(comparison.added) - DIFF_LINES_SHOWN),
    }
    return render(request, "access/published/check.html", context)


@dashboard_panel
def published_code_panel(user) -> Panel | None:
    if DPO not in roles_of(user):
        return None
    comparison = published.compare()
    if comparison.matches:
        return None
    return Panel(
        title="The published code no longer matches the system",
        count=len(comparison.sections),
        url=reverse("published_code_check"),
        link_text="See what changed and publish a new version",
        description="Sections that differ from version %s: %s."
        % (
            comparison.published.version if comparison.published else "none",
            "; ".join(comparison.sections),
        ),
    )


urlpatterns = [
    path("privacy/", published_inventory, name="published_inventory"),
    path("privacy/inventory.pdf", published_inventory_pdf, name="published_inventory_pdf"),
    path("compliance/code/generated/", published_code, name="published_code"),
    path("compliance/code/generated.pdf", published_code_pdf, name="published_code_pdf"),
    path("compliance/code/check/", published_code_check, name="published_code_check"),
]
