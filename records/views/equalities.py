"""Equality monitoring: a person's answers, recorded from their page, and the committee's
anonymised figures with their CSV export."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import Role
from records import equalities, services
from records.forms.equalities import EqualityMonitoringForm
from records.models import EqualityMonitoring, Person
from records.policies import EQUALITIES_ROLES
from tmo.reports import SUPPRESSED

# Counts only, small ones hidden: for the committee as much as for the officers who report to it.
FIGURES_ROLES = (Role.COMMITTEE_MEMBER, Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD)


@roles_required(*EQUALITIES_ROLES)
def equality_answers(request, pk):
    person = get_visible_or_404(Person.objects.prefetch_related("markers"), request.user, pk=pk)
    answers = (
        EqualityMonitoring.objects.visible_to(request.user).filter(person=person).first()
        or EqualityMonitoring()
    )
    form = EqualityMonitoringForm(request.POST or None, instance=answers)
    if request.method == "POST" and form.is_valid():
        try:
            equalities.equality_answers_save(
                recorded_by=request.user, person=person, answers=form.save(commit=False)
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, "Equality monitoring answers saved for %s." % person.full_name
            )
            return redirect("person_detail", pk=person.pk)
    if answers.pk:
        # The form shows the stored answers, so opening it is a read of them.
        services.record_open(user=request.user, obj=answers)
    return render(
        request,
        "records/equality_answers_form.html",
        {"form": form, "person": person, "answers": answers},
    )


@roles_required(*FIGURES_ROLES)
def equality_figures(request):
    return render(
        request,
        "records/equality_figures.html",
        {"figures": equalities.equality_figures(), "suppressed": SUPPRESSED},
    )


@roles_required(*FIGURES_ROLES)
def equality_figures_csv(request):
    figures = equalities.equality_figures()
    # The byte-order mark lets spreadsheet programs read the labels correctly.
    response = HttpResponse(
        "\ufeff" + equalities.figures_csv(figures), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="equality-figures-%s.csv"' % (
        timezone.localdate().isoformat()
    )
    return response
