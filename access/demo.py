"""Demo breaches and impact assessments for `manage.py seed_demo`, made through the services so
their audit trail, clock and alerts are real: one breach within its 72 hours (the DPO's banner
shows it), one closed, a resident's report waiting for the DPO, a signed-off DPIA and a draft.

records' seed_demo finds this module by name; access knows no app above it, so the people are
found through the personal-data map's subject model."""

import datetime

from django.utils import timezone

from access.models import Breach
from access.services import breaches, dpia
from access.services.emergency import subject_model


def _some_person(officer):
    return subject_model()._default_manager.visible_to(officer).order_by("pk").first()


def seed_demo(*, users, log) -> None:
    now = timezone.now()
    dpo, senior, housing = users["dpo"], users["senior"], users["housing"]

    misdirected = breaches.report_breach(
        reported_by=housing,
        summary="A repair appointment email with the tenant's phone number and the access notes "
        "for their flat went to the wrong contractor. The contractor rang to say so.",
        became_aware_at=now - datetime.timedelta(hours=30),
        occurred_at=now - datetime.timedelta(hours=31),
        data_description="Name, phone number, address and access notes (key safe location).",
        source_details="The site manager at the contractor who received it.",
        now=now - datetime.timedelta(hours=29),
    )
    breaches.acknowledge_breach(
        user=dpo,
        breach=misdirected,
        decision=breaches.Triage.OPEN,
        notes="Called the contractor back on their published number.",
        now=now - datetime.timedelta(hours=28),
    )
    person = _some_person(housing)
    if person is not None:
        breaches.add_breach_subject(user=dpo, breach=misdirected, obj=person)
    breaches.update_breach_details(
        user=dpo,
        breach=misdirected,
        summary=misdirected.summary,
        occurred_at=misdirected.occurred_at,
        became_aware_at=misdirected.became_aware_at,
        data_description=misdirected.data_description,
        data_categories=["records.person", "records.tenancy"],
        approx_people=1,
        approx_records=1,
        source_details=misdirected.source_details,
        now=now - datetime.timedelta(hours=27),
    )
    breaches.assess_breach_risk(
        user=dpo,
        breach=misdirected,
        likelihood=Breach.Likelihood.POSSIBLE,
        severity=Breach.Severity.SIGNIFICANT,
        notes="The key safe location gives access to the home; the contractor is bound by its "
        "agreement with us.",
        now=now - datetime.timedelta(hours=26),
    )
    breaches.record_containment(
        user=dpo,
        breach=misdirected,
        containment="The contractor confirmed in writing that the email was deleted.",
        recovery="The key safe code was changed the same day.",
        now=now - datetime.timedelta(hours=25),
    )

    letter = breaches.report_breach(
        reported_by=users["finance"],
        summary="A rent statement was posted to a tenant's previous address.",
        became_aware_at=now - datetime.timedelta(days=40),
        now=now - datetime.timedelta(days=40),
    )
    breaches.acknowledge_breach(
        user=dpo,
        breach=letter,
        decision=breaches.Triage.OPEN,
        now=now - datetime.timedelta(days=40),
    )
    breaches.assess_breach_risk(
        user=dpo,
        breach=letter,
        likelihood=Breach.Likelihood.REMOTE,
        severity=Breach.Severity.SIGNIFICANT,
        notes="The new occupant returned it unopened.",
        now=now - datetime.timedelta(days=40),
    )
    breaches.record_containment(
        user=dpo,
        breach=letter,
        containment="Letter returned unopened; address corrected on the rent account.",
        now=now - datetime.timedelta(days=39),
    )
    breaches.record_ico_decision(
        user=dpo,
        breach=letter,
        decision=Breach.IcoDecision.NOT_REPORTABLE,
        reasons="Returned unopened: unlikely to result in a risk to the tenant.",
        now=now - datetime.timedelta(days=39),
    )
    breaches.close_breach(
        user=dpo,
        breach=letter,
        lessons_learned="Statements now take the correspondence address from the person record.",
        now=now - datetime.timedelta(days=38),
    )

    breaches.report_data_problem(
        account=users["tenant"],
        description="When I signed in I could see a repair booking for a flat that is not mine.",
        now=now - datetime.timedelta(hours=1),
    )

    signed = dpia.create_assessment(
        user=dpo,
        values={
            "title": "Online repairs booking with contractors",
            "description": "Tenants book repairs online; the booking goes to the contractor "
            "under the data sharing agreement.",
            "covers": ["records.person", "records.tenancy", "records.contactrecord"],
            "risks": "Access notes reaching the wrong contractor; safe addresses released.",
            "measures": "Only the items in the agreement are sent; safety markers block release.",
            "dpo_advice": "Proceed with the measures; review after six months of use.",
        },
        now=now - datetime.timedelta(days=120),
    )
    dpia.sign_off_assessment(
        user=senior,
        assessment=signed,
        review_on=timezone.localdate() + datetime.timedelta(days=60),
        notes="Agreed at the management meeting.",
        now=now - datetime.timedelta(days=110),
    )
    dpia.create_assessment(
        user=senior,
        values={
            "title": "CCTV on the estate's communal entrances",
            "description": "Cameras at the three block entrances, recordings kept 30 days.",
            "covers": ["records.person"],
            "risks": "Recording residents' comings and goings; requests for footage.",
            "measures": "",
        },
        now=now - datetime.timedelta(days=5),
    )
    log("Breaches: one within its 72 hours, one closed, a resident's report waiting; 2 DPIAs")
