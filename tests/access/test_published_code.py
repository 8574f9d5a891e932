"""The published Code of Confidentiality and the public inventory: generated from the map, the
roles and their policies, and the retention schedule; compared with the published version; and
published as a new version that everyone signs again."""

import dataclasses
import html
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from access import published
from access.compliance import compliance_problems, forget_compliance
from access.models import ConfidentialityCode
from access.roles import ROLE_DESCRIPTIONS, Role
from records.models import Person, Tenancy
from tests.factories import (
    DataSharingAgreementFactory,
    HousingApplicationFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import datamap
from tmo.datamap import Category

PASSWORD = "correct horse battery staple"


def _words(text: str) -> str:
    """Text with its whitespace made single spaces, as a PDF's or a page's lines break anywhere."""
    return " ".join(html.unescape(text).split())


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return _words(" ".join(page.extract_text() for page in reader.pages))


def _body(response) -> str:
    text = response.content.decode()
    return _words(re.sub(r"<[^>]+>", " ", text))


def _publish_what_the_system_says(dpo) -> ConfidentialityCode:
    code = published.publish_generated_code(
        published_by=dpo,
        version=published.next_version(),
        reviewed_digest=published.compare().digest,
    )
    forget_compliance(dpo)
    return code


@pytest.fixture
def dpo(db):
    return user_with_role(Role.DATA_PROTECTION_LEAD)


def test_every_kind_and_category_in_the_map_is_in_the_code_and_inventory_html_and_pdf(client, dpo):
    names = [entry.model_name for entry in datamap.entries()]
    categories = [str(label) for label in Category.labels]
    assert "Equality monitoring answers" in names

    text = _words(published.code_text())
    inventory_page = client.get(reverse("published_inventory"))
    inventory_pdf = client.get(reverse("published_inventory_pdf"))
    client.force_login(dpo)
    code_page = client.get(reverse("published_code"))
    code_pdf = client.get(reverse("published_code_pdf"))
    assert inventory_pdf["Content-Type"] == code_pdf["Content-Type"] == "application/pdf"

    documents = {
        "code text": text,
        "code page": _body(code_page),
        "code PDF": _pdf_text(code_pdf.content),
        "inventory page": _body(inventory_page),
        "inventory PDF": _pdf_text(inventory_pdf.content),
    }
    missing = [
        (where, name)
        for where, document in documents.items()
        for name in names
        if name not in document
    ]
    assert missing == []
    for where in ("inventory page", "inventory PDF"):
        for label in categories:
            assert label in documents[where], (where, label)
    for where in ("code text", "code page", "code PDF"):
        for label in categories:
            assert label.lower() in documents[where].lower(), (where, label)


@pytest.mark.django_db
def test_the_code_says_what_each_role_reaches_as_the_policies_do():
    code = published.build_code()
    reaches = {reach.role: reach for reach in published.role_reaches(published.kinds())}

    assert {reach.description for reach in reaches.values()} == set(ROLE_DESCRIPTIONS.values())
    # HR and contracts work on every record of their own kinds and see no resident's bank details.
    assert {"Staff record", "Job application"} <= {k.name for k in reaches[Role.HR_OFFICER].every}
    assert "Contractor bid" in {k.name for k in reaches[Role.CONTRACTS_OFFICER].every}
    assert "Contractor bid" not in {
        k.name
        for k in reaches[Role.HOUSING_OFFICER].every + reaches[Role.HOUSING_OFFICER].their_work
    }
    # Person fields only some roles see: a repairs officer is never shown a date of birth.
    assert any("date of birth" in line for line in reaches[Role.REPAIRS_OFFICER].withheld_fields)
    assert not any(
        "date of birth" in line for line in reaches[Role.FINANCE_OFFICER].withheld_fields
    )
    # The data protection lead reaches everything; tenants and administrators nothing.
    assert reaches[Role.DATA_PROTECTION_LEAD].their_work == ()
    assert reaches[Role.TENANT].reaches_nothing
    assert reaches[Role.SYSTEM_ADMINISTRATOR].reaches_nothing
    # A committee member's role reaches no record about a person, only the meetings they sat in.
    assert reaches[Role.COMMITTEE_MEMBER].every == ()
    assert [k.name for k in reaches[Role.COMMITTEE_MEMBER].their_work] == ["Meeting"]
    # Equality answers: only the roles that record them.
    answers = next(k for k in published.kinds() if k.key == "records.equalitymonitoring")
    assert {reader.role for reader in answers.readers} == {
        Role.HOUSING_OFFICER,
        Role.DATA_PROTECTION_LEAD,
    }
    assert answers.condition.endswith("DPA 2018 Sch. 1 para 8)")
    assert "2. Who may see it" in code.text()


def test_a_retention_change_in_the_schedule_changes_the_code_and_raises_the_mismatch(client, dpo):
    from tmo.retention import schedule_for
    from tmo.retention_models import RetentionRule

    _publish_what_the_system_says(dpo)
    assert published.compare().matches

    RetentionRule.objects.filter(model_label="records.tenancy").update(
        years=9, after="the tenancy ends and any claim is settled"
    )
    entry = datamap.entry_for(Tenancy)
    assert schedule_for(entry).years == 9
    comparison = published.compare()
    assert not comparison.matches
    assert "- Tenancy: 9 years after the tenancy ends and any claim is settled." in (
        comparison.added
    )
    assert comparison.sections == ["4. How long we keep it"]

    client.force_login(dpo)
    page = client.get(reverse("published_code_check"))
    body = _body(page)
    assert "The published code no longer matches the system" in body
    assert "4. How long we keep it" in body
    assert "Tenancy: 9 years after the tenancy ends and any claim is settled." in body
    inventory = _body(client.get(reverse("published_inventory")))
    assert "9 years after the tenancy ends and any claim is settled." in inventory


def test_a_change_to_a_map_entry_changes_the_code_and_raises_the_mismatch(client, dpo, monkeypatch):
    _publish_what_the_system_says(dpo)
    entry = datamap.entry_for(Person)
    monkeypatch.setattr(
        Person,
        "personal_data",
        dataclasses.replace(
            entry,
            purpose="Identifying people, and now also sending them the newsletter.",
            lawful_basis=datamap.LawfulBasis.CONSENT,
        ),
    )
    comparison = published.compare()
    assert not comparison.matches
    assert (
        "  Why: Identifying people, and now also sending them the newsletter." in comparison.added
    )
    assert "  Lawful basis: Consent (Art. 6(1)(a))" in comparison.added
    assert comparison.sections == ["1. What we keep and why"]

    client.force_login(dpo)
    dashboard = _body(client.get(reverse("dashboard")))
    assert "The published code no longer matches the system" in dashboard
    assert "1. What we keep and why" in dashboard


def test_publishing_makes_a_new_version_that_everyone_signs_again(client, dpo, patch, officer):
    tenant = tenant_in_patch(patch)
    assert compliance_problems(officer) == []
    client.force_login(dpo)
    url = reverse("published_code_check")
    page = client.get(url)
    assert "The published code no longer matches the system" in _body(page)
    before = ConfidentialityCode.objects.count()
    reviewed = published.compare().digest

    wrong = client.post(url, {"version": "2", "password": "not my password", "reviewed": reviewed})
    assert "The password is not right" in _body(wrong)
    stale = client.post(url, {"version": "2", "password": PASSWORD, "reviewed": "0" * 64})
    assert "changed while you were reviewing" in _body(stale)
    taken = client.post(url, {"version": "1", "password": PASSWORD, "reviewed": reviewed})
    assert "Version 1 already exists" in _body(taken)
    assert ConfidentialityCode.objects.count() == before

    response = client.post(url, {"version": "2", "password": PASSWORD, "reviewed": reviewed})
    assert response.status_code == 302
    code = ConfidentialityCode.objects.current().get()
    assert code.version == "2" and code.published_by == dpo
    assert code.text == published.code_text()
    assert published.compare().matches

    # The existing flow: nobody opens records until they sign version 2, the DPO included.
    forget_compliance(officer)
    assert compliance_problems(officer) == [
        "You have not signed version 2 of the confidentiality code."
    ]
    check = client.get(url)
    assert "The published code matches the system" in _body(check)
    client.force_login(officer)
    assert client.get(reverse("person_detail", args=[tenant.pk])).status_code == 404
    client.post(
        reverse("compliance_code"),
        {"agree": "on", "full_name": officer.get_full_name(), "version": "2"},
    )
    assert client.get(reverse("person_detail", args=[tenant.pk])).status_code == 200

    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(
        object_pk=str(code.pk),
        additional_data__event="confidentiality_code_generated_published",
    ).exists()


def test_nothing_to_publish_when_the_code_matches(client, dpo):
    _publish_what_the_system_says(dpo)
    client.force_login(dpo)
    versions = ConfidentialityCode.objects.count()
    response = client.post(
        reverse("published_code_check"),
        {"version": "9", "password": PASSWORD, "reviewed": published.compare().digest},
    )
    assert "already matches the system" in _body(response)
    assert ConfidentialityCode.objects.count() == versions
    assert "The published code no longer matches" not in _body(client.get(reverse("dashboard")))


def test_the_public_inventory_needs_no_sign_in_and_holds_no_personal_data(client, patch):
    people = [
        tenant_in_patch(patch, first_name="Zenobia", email="zenobia@mail.example"),
        HousingApplicationFactory(person__first_name="Quintus").person,
    ]
    agreement = DataSharingAgreementFactory(partner="Acme Roofing Ltd")
    DataSharingAgreementFactory(partner="Draft Partner Ltd", status="draft")

    page = client.get(reverse("published_inventory"))
    pdf = client.get(reverse("published_inventory_pdf"))
    assert page.status_code == pdf.status_code == 200
    documents = [page.content.decode(), _pdf_text(pdf.content)]
    for document in documents:
        for person in people:
            for value in (person.first_name, person.last_name, person.ni_number, person.email):
                assert value not in document
        assert agreement.partner in document
        assert "Draft Partner Ltd" not in document
        assert "What we hold about people, and why" in document

    # The code itself is for the people who sign it.
    assert client.get(reverse("published_code")).status_code == 302
    assert client.get(reverse("published_code_pdf")).status_code == 302
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    assert client.get(reverse("published_code")).status_code == 200
    client.force_login(user_with_role(Role.TENANT))
    assert client.get(reverse("published_code")).status_code == 403
    assert client.get(reverse("published_code_check")).status_code == 403
    assert client.get(reverse("published_inventory")).status_code == 200


def test_only_the_data_protection_lead_publishes(dpo):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        published.publish_generated_code(
            published_by=user_with_role(Role.SENIOR_OFFICER),
            version="2",
            reviewed_digest=published.compare().digest,
        )
