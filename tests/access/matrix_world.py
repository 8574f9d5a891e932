"""The people and records the authorization tests walk over: for each kind, the OWN object (in
the housing and repairs officers' patch), the OTHER one (another patch) and, for people, one
linked to nothing (UNASSIGNED)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from access.roles import Role
from records import services
from tests.factories import (
    ContactRecordFactory,
    ContractorBidFactory,
    ContractorContactFactory,
    JobApplicationFactory,
    PatchFactory,
    PersonFactory,
    StaffRecordFactory,
    UserFactory,
    tenant_in_patch,
)

R = Role
ALL_ROLES = list(Role)
OWN, OTHER, UNASSIGNED = "own", "other", "unassigned"
# The steps of a breach record, each a page of its own on the breach (access.views.breaches).
BREACH_STEP_URLS = (
    "breach_acknowledge",
    "breach_edit",
    "breach_people",
    "breach_risk",
    "breach_containment",
    "breach_ico",
    "breach_notify",
    "breach_outcome",
    "breach_close",
)


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00\xff\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def build_world():
    users = {
        role: UserFactory(roles=[role], is_staff=role == R.SYSTEM_ADMINISTRATOR)
        for role in ALL_ROLES
    }
    own_patch = PatchFactory(officers=[users[R.HOUSING_OFFICER], users[R.REPAIRS_OFFICER]])
    other_patch = PatchFactory()
    people = {
        OWN: tenant_in_patch(
            own_patch, first_name="Ottilie", last_name="Ownpatchperson", ni_number="QQ 10 10 10 A"
        ),
        OTHER: tenant_in_patch(
            other_patch, first_name="Otto", last_name="Otherpatchperson", ni_number="QQ 20 20 20 B"
        ),
        UNASSIGNED: PersonFactory(
            first_name="Una", last_name="Unassignedperson", ni_number="QQ 30 30 30 C"
        ),
    }
    hr_people = {
        OWN: StaffRecordFactory(person__first_name="Stella", person__last_name="Staffmemberone"),
        OTHER: StaffRecordFactory(person__first_name="Stan", person__last_name="Staffmembertwo"),
    }
    applicants = {
        OWN: JobApplicationFactory(person__first_name="Jas", person__last_name="Jobapplicantone"),
        OTHER: JobApplicationFactory(person__first_name="Jo", person__last_name="Jobapplicanttwo"),
    }
    contractors = {
        OWN: ContractorContactFactory().contractor,
        OTHER: ContractorContactFactory().contractor,
    }
    for contractor in contractors.values():
        ContractorBidFactory(contractor=contractor)
    objects = {
        "person": people,
        "tenancy": {k: people[k].household_memberships.get().tenancy for k in (OWN, OTHER)},
        "property": {
            k: people[k].household_memberships.get().tenancy.property for k in (OWN, OTHER)
        },
        "contact": {k: ContactRecordFactory(person=p) for k, p in people.items()},
        "document": {
            k: services.document_upload(
                uploaded_by=users[R.DATA_PROTECTION_LEAD],
                person=p,
                upload=SimpleUploadedFile("photo.png", _png()),
                title="Photo",
                kind="photo",
            )
            for k, p in people.items()
        },
        "staff_record": hr_people,
        "job_application": applicants,
        "contractor": contractors,
    }
    return {
        "users": users,
        "objects": objects,
        "people": people,
        "hr": hr_people,
        "applicants": applicants,
    }
