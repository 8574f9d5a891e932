"""Redaction proposals: other people's details found inside the requester's records.

The register gives the names, addresses, phone numbers, emails and NI numbers of everyone but the
requester (decrypted in memory, for this one request); common identifier patterns catch the rest.
A detail protected by a third party's safety marker is redacted outright, never only proposed.
"""

import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from records.models import Marker, Person, Property
from sar.models import SarRedaction
from sar.models.bundles import REDACTED_MARK
from tmo import crypto, datamap

Kind = SarRedaction.Kind

PATTERNS = (
    (Kind.EMAIL, re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (Kind.NI_NUMBER, re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.I)),
    (Kind.PHONE, re.compile(r"(?<![\w])(?:\+44\s?|0)(?:\d[\s-]?){9,10}(?![\w])")),
    (Kind.POSTCODE, re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.I)),
)
MIN_TERM = 3
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Proposal:
    field_name: str
    start: int
    end: int
    text: str
    kind: str
    mandatory: bool


def _normalise(kind: str, value: str) -> str:
    if kind == Kind.PHONE:
        return crypto.normalise_phone(value)
    if kind in {Kind.NI_NUMBER, Kind.POSTCODE}:
        return crypto.normalise_compact(value)
    return crypto.normalise_text(value)


class Register:
    """What the register says about everyone but the requester, ready to search text for.

    Built once per request over the whole register, so it reads only what it needs: names and
    homes are plain columns; of the encrypted fields it decrypts the free-text ones patterns cannot
    recognise (addresses, workplace, school). A stranger's email, phone or NI number is found by
    PATTERNS anyway; only a safety-blocked person's must be known, to make its redaction
    mandatory, and those few people are read in full."""

    def __init__(self, requester: Person):
        self.terms: dict[str, tuple[str, bool]] = {}  # lowercase term -> (kind, mandatory)
        self.known: dict[tuple[str, str], bool] = {}  # (kind, normalised) -> mandatory
        self.own: set[tuple[str, str]] = set()
        self.own_terms: set[str] = set()
        self._index: dict[str, list[int]] | None = None
        self._add_requester(requester)
        others = Person.objects.exclude(pk=requester.pk)
        today = timezone.localdate()
        blocked_ids = set(
            Marker.objects.filter(kind__in=Marker.SAFETY_KINDS, starts_on__lte=today)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
            .values_list("person_id", flat=True)
        )
        rows = others.values_list(
            "pk",
            "first_name",
            "last_name",
            "preferred_name",
            "correspondence_address",
            "workplace",
            "school",
        )
        for pk, first, last, preferred, *free_text in rows.iterator(chunk_size=5000):
            if pk in blocked_ids:
                continue
            self._names(first, last, preferred, mandatory=False)
            for value in free_text:
                self._value(value or "", Kind.ADDRESS, False)
        protected = set(datamap.entry_for(Person).safety_protected_fields)
        blocked = others.filter(pk__in=blocked_ids).prefetch_related(
            "markers", "household_memberships__tenancy__property"
        )
        for person in blocked:
            self._names(person.first_name, person.last_name, person.preferred_name, mandatory=False)
            for field_name, kind in (
                ("email", Kind.EMAIL),
                ("phone", Kind.PHONE),
                ("ni_number", Kind.NI_NUMBER),
                ("correspondence_address", Kind.ADDRESS),
                ("workplace", Kind.ADDRESS),
                ("school", Kind.ADDRESS),
            ):
                value = getattr(person, field_name) or ""
                mandatory = field_name in protected
                self._value(value, Kind.SAFETY if mandatory else kind, mandatory)
            for marker in person.markers.all():
                if marker.kind in Marker.SAFETY_KINDS and marker.details:
                    self._value(marker.details, Kind.SAFETY, True)
            for membership in person.household_memberships.all():
                home = membership.tenancy.property
                self._address(home.address_line_1, home.address_line_2, home.postcode, True)
        homes = Property.objects.values_list("address_line_1", "address_line_2", "postcode")
        for line_1, line_2, postcode in homes.iterator(chunk_size=5000):
            self._address(line_1, line_2, postcode, False)

    def _names(self, first: str, last: str, preferred: str, *, mandatory: bool) -> None:
        names = {" ".join(part for part in (first, last) if part)}
        if preferred:
            names.add("%s %s" % (preferred, last))
        if last.lower() not in self.own_terms:
            names.add(last)
        for name in names:
            self._term(name, Kind.NAME, mandatory)

    def _add_requester(self, person: Person) -> None:
        for kind, value in (
            (Kind.EMAIL, person.email),
            (Kind.PHONE, person.phone),
            (Kind.NI_NUMBER, person.ni_number),
        ):
            if value:
                self.own.add((kind, _normalise(kind, value)))
        for name in (person.full_name, person.last_name, person.first_name):
            self.own_terms.add(name.lower())
        for membership in person.household_memberships.select_related("tenancy__property"):
            home = membership.tenancy.property
            self.own_terms.add(home.address_line_1.lower())
            self.own.add((Kind.POSTCODE, _normalise(Kind.POSTCODE, home.postcode)))
        for line in (person.correspondence_address or "").splitlines():
            self.own_terms.add(line.strip().lower())

    def _term(self, text: str, kind: str, mandatory: bool) -> None:
        text = text.strip()
        key = text.lower()
        if len(text) < MIN_TERM or (key in self.own_terms and not mandatory):
            return
        current = self.terms.get(key)
        if current is None or (mandatory and not current[1]):
            self.terms[key] = (kind, mandatory)

    def _value(self, value: str, kind: str, mandatory: bool) -> None:
        if not value:
            return
        self._term(value, kind, mandatory)
        for line in value.replace(",", "\n").splitlines():
            self._term(line, kind, mandatory)
        for pattern_kind, pattern in PATTERNS:
            for match in pattern.finditer(value):
                key = (pattern_kind, _normalise(pattern_kind, match.group()))
                self.known[key] = self.known.get(key, False) or mandatory

    def _address(self, line_1: str, line_2: str, postcode: str, mandatory: bool) -> None:
        kind = Kind.SAFETY if mandatory else Kind.ADDRESS
        self._term(line_1, kind, mandatory)
        if mandatory:
            self._term(line_2, kind, mandatory)
        key = (Kind.POSTCODE, _normalise(Kind.POSTCODE, postcode))
        if key not in self.own or mandatory:
            self.known[key] = self.known.get(key, False) or mandatory

    def _term_index(self) -> dict[str, list[int]]:
        """The lengths of the terms that start with each first word, so a text is searched in
        one pass over its words, trying at each word only the lengths a term starting with it
        has, rather than once per term (a register holds a hundred thousand terms, and some
        7,000 of them start with "flat")."""
        if self._index is None:
            lengths: dict[str, set[int]] = {}
            for term in self.terms:
                first = WORD.match(term)
                # A term not starting with a word character is keyed by "" and tried everywhere.
                lengths.setdefault(first.group() if first else "", set()).add(len(term))
            self._index = {word: sorted(found) for word, found in lengths.items()}
        return self._index

    def _term_matches(self, text: str):
        index = self._term_index()
        lowered = text.lower()
        if len(lowered) != len(text):
            # A few characters change length when lowered; search those texts term by term.
            for term, (kind, mandatory) in self.terms.items():
                pattern = r"(?<!\w)%s(?!\w)" % re.escape(term)
                for match in re.finditer(pattern, text, re.IGNORECASE):
                    yield match.start(), match.end(), kind, mandatory
            return
        starts = [(m.start(), m.group()) for m in WORD.finditer(lowered)]
        if "" in index:
            starts += [
                (i, "")
                for i in range(len(text))
                if (i == 0 or not WORD.match(text[i - 1])) and not WORD.match(text, i)
            ]
        for start, word in starts:
            for length in index.get(word, ()):
                end = start + length
                found = self.terms.get(lowered[start:end])
                if found is not None and not WORD.match(text, end):
                    yield start, end, *found

    def propose(self, field_name: str, text: str) -> list[Proposal]:
        found: list[Proposal] = []
        for start, end, kind, mandatory in self._term_matches(text):
            found.append(Proposal(field_name, start, end, text[start:end], kind, mandatory))
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(text):
                key = (kind, _normalise(kind, match.group()))
                if key in self.own:
                    continue
                mandatory = self.known.get(key, False)
                found.append(
                    Proposal(
                        field_name,
                        match.start(),
                        match.end(),
                        match.group(),
                        Kind.SAFETY if mandatory else kind,
                        mandatory,
                    )
                )
        return [
            Proposal(p.field_name, p.start, p.end, text[p.start : p.end], p.kind, p.mandatory)
            for p in merge(found)
        ]


def merge(proposals: list[Proposal]) -> list[Proposal]:
    """Overlapping spans become one, mandatory if any part of it is."""
    merged: list[Proposal] = []
    for proposal in sorted(proposals, key=lambda p: (p.start, -p.end)):
        if merged and proposal.start < merged[-1].end:
            last = merged[-1]
            end = max(last.end, proposal.end)
            mandatory = last.mandatory or proposal.mandatory
            kind = Kind.SAFETY if mandatory else last.kind
            merged[-1] = Proposal(last.field_name, last.start, end, "", kind, mandatory)
            continue
        merged.append(proposal)
    return merged


def propose(requester: Person, items) -> list[tuple[object, Proposal]]:
    """Proposals for every field of every item, as (item, proposal) pairs."""
    import json

    register = Register(requester)
    results = []
    for item in items:
        for entry in json.loads(item.data)["fields"]:
            for proposal in register.propose(entry["name"], entry["value"]):
                results.append((item, proposal))
    return results


def apply(value: str, spans) -> str:
    """The value with each span replaced by the visible redaction mark."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif end > start:
            merged.append([start, end])
    out = []
    position = 0
    for start, end in merged:
        out.append(value[position:start])
        out.append(REDACTED_MARK)
        position = end
    out.append(value[position:])
    return "".join(out)
