"""Disclosure pages: the register of every request (senior officers and the data protection lead),
its CSV and PDF exports (each audited), and the anonymised monthly figures for the committee."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from access.decorators import roles_required
from access.roles import Role
from disclosures import reports
from disclosures.models import Basis, RequesterType
from records.forms.people import GovukDateField
from records.views.common import paginate
from tmo.forms import GovukFormMixin
from tmo.reports import SUPPRESSED

REGISTER_ROLES = (Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD)
# The figures hold no personal data: counts only, small ones suppressed.
FIGURES_ROLES = (*REGISTER_ROLES, Role.COMMITTEE_MEMBER)


class RegisterFilterForm(GovukFormMixin, forms.Form):
    requester_type = forms.ChoiceField(
        label="Requester type",
        required=False,
        choices=[("", "Any requester")] + list(RequesterType.choices),
    )
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any outcome")] + reports.OUTCOME_CHOICES
    )
    basis = forms.ChoiceField(
        label="Basis",
        required=False,
        choices=[("", "Any basis")]
        + [(basis.value, reports.BASIS_SHORT[basis]) for basis in Basis],
    )
    date_from = GovukDateField(label="Received from", required=False)
    date_to = GovukDateField(label="Received up to", required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error(
                "date_to", "The ‘received up to’ date must be the same as or after the ‘from’ date"
            )
        return cleaned

    def filters(self) -> reports.RegisterFilters:
        """The filters asked for; none at all while the form has errors (they are shown)."""
        if not self.is_bound or not self.is_valid():
            return reports.RegisterFilters()
        return reports.RegisterFilters(
            **{name: value for name, value in self.cleaned_data.items() if value}
        )


def _filtered_rows(request):
    form = RegisterFilterForm(request.GET or None)
    filters = form.filters()
    return form, filters, reports.register_requests(request.user, filters)


def _export_query(request) -> str:
    """The query string the exports carry: the filters in force, not the page number."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render_register(request, form, filters, requests):
    page = paginate(request, requests, label="Register pages")
    rows = [reports.register_row(disclosure) for disclosure in page.object_list]
    return render(
        request,
        "disclosures/register_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filtering": bool(filters.describe()),
            "export_query": _export_query(request),
        },
    )


@roles_required(*REGISTER_ROLES)
def disclosure_register(request):
    form, filters, requests = _filtered_rows(request)
    return _render_register(request, form, filters, requests)


def _export(request, export_format: str):
    form, filters, requests = _filtered_rows(request)
    if form.errors:
        # Nothing leaves the system on filters the officer did not mean: show them the errors.
        return _render_register(request, form, filters, requests)
    rows = [reports.register_row(disclosure) for disclosure in requests]
    reports.register_export_record(
        exported_by=request.user, export_format=export_format, filters=filters, rows=rows
    )
    stamp = timezone.localdate().isoformat()
    if export_format == "csv":
        # The byte-order mark lets spreadsheet programs read names with accents correctly.
        response = HttpResponse(
            "\ufeff" + reports.register_csv(rows), content_type="text/csv; charset=utf-8"
        )
    else:
        pdf = reports.register_pdf(rows, filters=filters, exported_by=request.user)
        response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="disclosure-register-%s.%s"' % (
        stamp,
        export_format,
    )
    return response


@roles_required(*REGISTER_ROLES)
def disclosure_register_csv(request):
    return _export(request, "csv")


@roles_required(*REGISTER_ROLES)
def disclosure_register_pdf(request):
    return _export(request, "pdf")


@roles_required(*FIGURES_ROLES)
def disclosure_figures(request):
    return render(
        request,
        "disclosures/register_figures.html",
        {"figures": reports.monthly_figures(), "suppressed": SUPPRESSED},
    )


urlpatterns = [
    path("", disclosure_register, name="disclosure_register"),
    path("export.csv", disclosure_register_csv, name="disclosure_register_csv"),
    path("export.pdf", disclosure_register_pdf, name="disclosure_register_pdf"),
    path("figures/", disclosure_figures, name="disclosure_figures"),
]
