"""Rights requests at scale, for `manage.py seed_scale`.

records.scale finds this module by name (records may not import sar) and calls `seed_scale`,
`audit_history` and `heavy_subject`. About 0.12 requests per home over two years (3,000 at
25,000 homes), mostly subject access, across every status a request without a bundle can be in:
waiting for identity, clock stopped, in progress (some extended), completed (some late), refused
and withdrawn. Due dates come from sar.clock, with the stops and extensions that move them, and
every due date has its DueDateChange rows, as the services keep them.
"""

import datetime
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from records.scale import event_entry, given_timestamps, office_time
from sar import clock
from sar.models import ClockStop, DueDateChange, SubjectAccessRequest

Kind = SubjectAccessRequest.Kind
Status = SubjectAccessRequest.Status
PER_HOME = 0.12
KINDS = (
    (Kind.ACCESS, 75),
    (Kind.RECTIFICATION, 8),
    (Kind.ERASURE, 6),
    (Kind.RESTRICTION, 3),
    (Kind.OBJECTION, 5),
    (Kind.WITHDRAW_CONSENT, 3),
)
CHANNELS = (
    (SubjectAccessRequest.Channel.EMAIL, 45),
    (SubjectAccessRequest.Channel.LETTER, 30),
    (SubjectAccessRequest.Channel.PHONE, 12),
    (SubjectAccessRequest.Channel.IN_PERSON, 13),
)
DETAILS = {
    Kind.ACCESS: "A copy of everything you hold about me, including repair records and notes of "
    "phone calls.",
    Kind.RECTIFICATION: "My date of birth is wrong on your records; please correct it.",
    Kind.ERASURE: "Please delete the records you hold about my old tenancy.",
    Kind.RESTRICTION: "Please stop using my records while my complaint is looked at.",
    Kind.OBJECTION: "I object to my details being used for resident surveys.",
    Kind.WITHDRAW_CONSENT: "I withdraw my consent to you sharing my details with the support "
    "service.",
}
OUTCOMES = {
    Status.COMPLETED: "Answered in full: the bundle was released through the portal with the "
    "supplementary information.",
    Status.REFUSED: "Refused as manifestly unfounded: a repeat of a request answered last month. "
    "Told of the right to complain to the ICO.",
    Status.WITHDRAWN: "Withdrawn by the requester by email.",
}


class Writer:
    def __init__(self, context, name: str):
        self.context = context
        self.rng = context.rng(name)
        self.today = context.today
        self.numbers = defaultdict(int)
        # Only references in the service's own shape (SAR-2026-0001) count: others (the
        # benchmark's own subjects) must neither clash nor stop the count.
        for reference in SubjectAccessRequest.objects.filter(
            reference__regex=r"^SAR-[0-9]{4}-[0-9]+$"
        ).values_list("reference", flat=True):
            _, year, number = reference.split("-")
            self.numbers[int(year)] = max(self.numbers[int(year)], int(number))
        self.handlers = context.role_users("senior") + context.role_users("dpo")

    def reference(self, day: datetime.date) -> str:
        self.numbers[day.year] += 1
        return "SAR-%d-%04d" % (day.year, self.numbers[day.year])

    def status_for(self, age: int) -> str:
        roll = self.rng.random()
        if age > 90:
            return (
                Status.COMPLETED
                if roll < 0.85
                else Status.REFUSED
                if roll < 0.92
                else Status.WITHDRAWN
            )
        if age > 30:
            for status, share in (
                (Status.COMPLETED, 0.6),
                (Status.IN_PROGRESS, 0.8),
                (Status.CLOCK_STOPPED, 0.9),
                (Status.REFUSED, 0.95),
            ):
                if roll < share:
                    return status
            return Status.WITHDRAWN
        for status, share in (
            (Status.AWAITING_IDENTITY, 0.25),
            (Status.IN_PROGRESS, 0.75),
            (Status.CLOCK_STOPPED, 0.85),
        ):
            if roll < share:
                return status
        return Status.COMPLETED

    def write(self, plans: list[tuple], *, status: str | None = None, kind: str | None = None):
        """plans: (person_id, name, logged_by, received_on). Returns the requests written."""
        rng, today = self.rng, self.today
        now = timezone.now()
        requests, stops, changes = [], [], []
        for person_id, name, logged_by, received in sorted(plans, key=lambda p: p[3]):
            age = (today - received).days
            state = status or self.status_for(age)
            this_kind = kind or rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            identity_required = rng.random() < 0.7
            identity_on = None
            if identity_required and state != Status.AWAITING_IDENTITY:
                identity_on = min(today, received + datetime.timedelta(days=rng.randint(0, 10)))
            start = identity_on if identity_required else received
            handler = rng.choice(self.handlers)
            logged_at = min(now, office_time(rng, received))
            request = SubjectAccessRequest(
                reference=self.reference(received),
                kind=this_kind,
                channel=rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0],
                person_id=person_id,
                requester_name=name,
                requester_email="%s@example.org" % name.lower().replace(" ", ".").replace("'", ""),
                requester_address="",
                details=DETAILS[this_kind],
                received_on=received,
                identity_required=identity_required,
                identity_received_on=identity_on,
                status=state,
                handler=handler,
                logged_by=logged_by,
                logged_at=logged_at,
                outcome=OUTCOMES.get(state, ""),
            )
            history = []  # (old, new, reason, who)
            if start is None:
                history.append(
                    (None, None, "Received: the clock starts when identity evidence arrives")
                )
            else:
                first_due = clock.due_date(start)
                history.append(
                    (
                        None,
                        first_due,
                        "Identity evidence received" if identity_required else "Received",
                    )
                )
                due, stopped = first_due, 0
                if state == Status.CLOCK_STOPPED or (
                    state == Status.COMPLETED and rng.random() < 0.1
                ):
                    stop_on = min(today, start + datetime.timedelta(days=rng.randint(2, 12)))
                    restart = None
                    if state != Status.CLOCK_STOPPED:
                        restart = min(today, stop_on + datetime.timedelta(days=rng.randint(3, 20)))
                        stopped = (restart - stop_on).days
                    stops.append(
                        ClockStop(
                            request=request,
                            stopped_on=stop_on,
                            reason="Asked which years of repair records they want.",
                            restarted_on=restart,
                            stopped_by=handler,
                        )
                    )
                    if restart:
                        due = clock.due_date(start, days_stopped=stopped)
                        history.append(
                            (
                                first_due,
                                due,
                                "Clock restarted on %s: clarification received"
                                % restart.isoformat(),
                            )
                        )
                if state in (Status.IN_PROGRESS, Status.COMPLETED) and rng.random() < 0.05:
                    months = rng.choice((1, 2))
                    request.extension_months = months
                    request.extension_reason = "Complex: records across three tenancies and a "
                    "long repair history."
                    request.extension_told_on = min(
                        today, start + datetime.timedelta(days=rng.randint(10, 25))
                    )
                    extended = clock.due_date(start, extension_months=months, days_stopped=stopped)
                    history.append((due, extended, "Extended by %d month(s)" % months))
                    due = extended
                request.due_date = due
                if state in (Status.COMPLETED, Status.REFUSED, Status.WITHDRAWN):
                    late = rng.random() < 0.08
                    latest = due + datetime.timedelta(days=rng.randint(1, 20)) if late else due
                    request.completed_on = min(
                        today, start + datetime.timedelta(days=rng.randint(3, 28)), latest
                    )
                    if late:
                        request.completed_on = min(today, latest)
                    request.completed_on = max(request.completed_on, received)
            requests.append(request)
            for old, new, reason in history:
                changes.append(
                    DueDateChange(
                        request=request,
                        old_due_date=old,
                        new_due_date=new,
                        reason=reason,
                        changed_by=handler if old else logged_by,
                        changed_at=logged_at,
                    )
                )
        with given_timestamps(SubjectAccessRequest, "logged_at"):
            SubjectAccessRequest.objects.bulk_create(requests, batch_size=2000)
        ClockStop.objects.bulk_create(stops, batch_size=2000)
        with given_timestamps(DueDateChange, "changed_at"):
            DueDateChange.objects.bulk_create(changes, batch_size=2000)
        progress = self.context.progress
        progress.add("rights requests", len(requests))
        progress.add("clock stops", len(stops))
        progress.add("due date changes", len(changes))
        return requests


def seed_scale(*, context) -> None:
    residents = context.residents()
    users = {u.pk: u for u in context.role_users("housing")}
    if not residents or not users:
        return
    adults = [r for r in residents if r.tenant]
    total = context.scaled(PER_HOME * 25_000)
    writer = Writer(context, "sar")
    rng = writer.rng
    with context.progress.stage("rights requests", total * 3):
        plans = []
        for _ in range(total):
            resident = rng.choice(adults)
            officer = users.get(resident.housing_officer_id) or rng.choice(list(users.values()))
            received = context.today - datetime.timedelta(days=int(rng.triangular(0, 730, 0)))
            plans.append((resident.person_id, resident.name, officer, received))
        writer.write(plans)


def heavy_subject(*, context, person, factor: int) -> dict:
    """An open access request for the heavy subject, identity checked, ready for a bundle."""
    writer = Writer(context, "sar-heavy-%d" % person.pk)
    received = context.today - datetime.timedelta(days=3)
    (request,) = writer.write(
        [(person.pk, person.full_name, context.role_users("housing")[0], received)],
        status=Status.IN_PROGRESS,
        kind=Kind.ACCESS,
    )
    return {"request": request.reference}


def audit_history(*, context):
    """The handler's assignment and the closing event of each request, in time order."""
    rng = context.rng("sar-audit")
    request_ct = ContentType.objects.get_for_model(SubjectAccessRequest).pk
    users = {u.pk: u for users in context.users.values() for u in users}
    now = timezone.now()
    events = []
    for (
        pk,
        reference,
        logged_at,
        handler_id,
        status,
        completed_on,
    ) in SubjectAccessRequest.objects.values_list(
        "pk", "reference", "logged_at", "handler_id", "status", "completed_on"
    ):
        assigned = logged_at + datetime.timedelta(minutes=rng.randint(5, 240))
        events.append((assigned, pk, reference, handler_id, "sar_handler_assigned"))
        if status in (Status.COMPLETED, Status.REFUSED) and completed_on:
            closed = max(office_time(rng, completed_on), assigned + datetime.timedelta(minutes=1))
            closed = min(closed, now)
            event = "sar_completed" if status == Status.COMPLETED else "sar_refused"
            events.append((closed, pk, reference, handler_id, event))
    events.sort(key=lambda e: (e[0], e[1]))
    for when, pk, reference, handler_id, event in events:
        details = {"handler": handler_id} if event == "sar_handler_assigned" else {}
        yield event_entry(
            obj_ct=request_ct,
            obj_id=pk,
            name=reference,
            actor=users.get(handler_id),
            when=when,
            rng=rng,
            event=event,
            **details,
        )
