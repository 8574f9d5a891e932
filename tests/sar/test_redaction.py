"""Redaction proposals from the register and common identifier patterns; safety holds."""

from records.models import Marker
from sar import redaction
from sar.models.bundles import REDACTED_MARK
from tests.factories import MarkerFactory, PersonFactory, PropertyFactory, tenant_in_patch

Kind = redaction.Kind


def _found(register, text):
    return {(p.text, p.kind, p.mandatory) for p in register.propose("notes", text)}


def test_other_people_s_details_are_proposed_and_the_requester_s_are_not(db, patch):
    requester = tenant_in_patch(patch, first_name="Alice", last_name="Own", phone="07700 900001")
    PersonFactory(
        first_name="Brian",
        last_name="Other",
        phone="07700 900555",
        ni_number="QQ112233A",
        email="brian@mail.example",
    )
    register = redaction.Register(requester)
    found = _found(
        register,
        "Alice Own said Brian Other (07700900555, qq 11 22 33 a, brian@mail.example) shouts. "
        "Call Alice on 07700 900001. Unknown caller 020 7946 0000, stranger@else.example.",
    )
    texts = {text for text, _, _ in found}
    assert "Brian Other" in texts
    assert "07700900555" in texts and "qq 11 22 33 a" in texts and "brian@mail.example" in texts
    assert "020 7946 0000" in texts and "stranger@else.example" in texts  # patterns
    assert "Alice Own" not in texts and "07700 900001" not in texts
    assert not any(mandatory for _, _, mandatory in found)


def test_a_safety_protected_detail_is_always_redacted(db, patch):
    requester = tenant_in_patch(patch)
    victim = PersonFactory(
        correspondence_address="12 Hidden Road\nLondon\nE9 9QQ", phone="07700 900777"
    )
    MarkerFactory(person=victim, kind=Marker.Kind.SAFE_ADDRESS, details="Refuge in Leeds")
    register = redaction.Register(requester)
    found = _found(register, "She moved to 12 Hidden Road, E9 9QQ; phone 07700900777.")
    assert ("12 Hidden Road", Kind.SAFETY, True) in found
    assert ("E9 9QQ", Kind.SAFETY, True) in found
    assert ("07700900777", Kind.SAFETY, True) in found


def test_other_homes_addresses_are_proposed(db, patch):
    requester = tenant_in_patch(patch)
    home = requester.household_memberships.get().tenancy.property
    other = PropertyFactory(address_line_1="99 Elsewhere Street", postcode="SW1 1ZZ")
    register = redaction.Register(requester)
    found = _found(
        register,
        "Moved from %s to %s, %s" % (home.address_line_1, other.address_line_1, other.postcode),
    )
    texts = {text for text, _, _ in found}
    assert other.address_line_1 in texts and other.postcode in texts
    assert home.address_line_1 not in texts


def test_apply_marks_each_span_and_merges_overlaps():
    assert redaction.apply("Call Bob Smith now", [(5, 14)]) == "Call %s now" % REDACTED_MARK
    assert redaction.apply("abcdef", [(0, 3), (2, 4)]) == REDACTED_MARK + "ef"
    assert redaction.apply("abc", []) == "abc"


def _by_regex(register, text):
    """The one-regex-per-term search the word index replaced: the reference it must agree with."""
    import re

    found = set()
    for term, (kind, mandatory) in register.terms.items():
        pattern = r"(?<!\w)%s(?!\w)" % re.escape(term)
        for match in re.finditer(pattern, text, re.IGNORECASE):
            found.add((match.start(), match.end(), kind, mandatory))
    return found


def test_the_word_index_finds_exactly_what_a_regex_per_term_finds(db, patch):
    requester = tenant_in_patch(patch)
    PersonFactory(first_name="Mary-Jane", last_name="O'Brien", workplace="(Acme) Depot")
    PersonFactory(first_name="Sam", last_name="Smith", school="St. Mary's, Deptford")
    register = redaction.Register(requester)
    for text in (
        "Mary-Jane O'Brien and SAM SMITH met Smithson; smith, smith. The O'Briens and Mary-Jane O'Briens.",
        "Working at (Acme) Depot; x(Acme) Depot is not a match, nor is Acme Depots.",
        "St. Mary's, Deptford phoned. st. mary's again. Mary-Janet O'Brien is someone else.",
        "İstanbul: Sam Smith",  # lowering changes the length: the term-by-term path
        "",
    ):
        assert set(register._term_matches(text)) == _by_regex(register, text), text


def test_terms_sharing_a_first_word_are_told_apart_by_length(db, patch):
    """Thousands of homes start "Flat": each is tried by length at a "flat", not one by one."""
    requester = tenant_in_patch(patch)
    for line in ("Flat 1 Acorn House", "Flat 12 Acorn House", "Flat 2", "Flat 1 Birch Court"):
        PropertyFactory(address_line_1=line)
    register = redaction.Register(requester)
    text = "Seen at flat 12 Acorn House, then Flat 2, then FLAT 1 BIRCH COURT; flat 21 is unknown."
    assert set(register._term_matches(text)) == _by_regex(register, text)
    assert {p.text for p in register.propose("notes", text)} >= {
        "flat 12 Acorn House",
        "Flat 2",
        "FLAT 1 BIRCH COURT",
    }


def test_a_stranger_s_contact_details_are_caught_by_pattern_without_decrypting_them(db, patch):
    requester = tenant_in_patch(patch)
    PersonFactory(phone="07700 900432", email="someone@mail.example", ni_number="QQ445566B")
    register = redaction.Register(requester)
    assert not any(kind == Kind.EMAIL for kind, _ in register.terms.values())
    found = _found(register, "Rang 07700 900432, wrote to someone@mail.example, NI QQ445566B.")
    assert {text for text, _, _ in found} == {
        "07700 900432",
        "someone@mail.example",
        "QQ445566B",
    }
    assert not any(mandatory for _, _, mandatory in found)
