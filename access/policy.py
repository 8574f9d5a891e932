"""The shape every object policy takes: a queryset scope and its object twin.

A protected model's manager is built from `PolicyQuerySet`; its `scope(user)` says which rows the
user's roles and assignments cover. On top of that come two kinds of specific, time-limited grant,
read live on every request so that no scheduled job is needed for them to end:

- emergency ("break the glass") access, which widens a staff member's working scope
  (`in_scope`), so the person's linked records come with them;
- committee grants, which add exactly the named rows and nothing linked to them.

`visible_to(user)` answers "which?", `get_visible_or_404` answers "this one?" with the same rule,
and anything outside is a 404 indistinguishable from a row that does not exist. A user who has not
signed the current confidentiality undertaking or whose training has lapsed sees nothing at all.
Superuser status and model-wide permissions grant nothing here.
"""

import contextlib
import contextvars
import functools
import operator
from collections import defaultdict

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.http import Http404
from django.utils import timezone
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from access.roles import roles_of

NOTHING = Q(pk__in=[])
# Set only by `without_emergency_access`: the unusual-access check asks what a user's roles and
# assignments cover, and a live emergency access would widen linked models' scope as well.
_IGNORE_EMERGENCY = contextvars.ContextVar("tmo_ignore_emergency_access", default=False)


@contextlib.contextmanager
def without_emergency_access():
    """Within this block `in_scope` and `visible_to` leave out emergency access, for every model
    (linked models read the person's `in_scope`, so dropping it from one place is not enough)."""
    token = _IGNORE_EMERGENCY.set(True)
    try:
        yield
    finally:
        _IGNORE_EMERGENCY.reset(token)


class PolicyQuerySet(models.QuerySet):
    def scope(self, user) -> Q:
        raise NotImplementedError("%s must say which rows a user may see" % type(self).__name__)

    def in_scope(self, user):
        """Rows within the user's working scope: roles, assignments and live emergency access."""
        if not _may_read(user):
            return self.none()
        scope = self.scope(user)
        if not scope:  # an empty Q is every row, and would vanish if OR-ed with anything
            return self.all()
        return self.filter(_widened(scope, emergency_scope(self.model, user)))

    def visible_to(self, user):
        """Everything the user may see: their working scope plus live committee grants."""
        if not _may_read(user):
            return self.none()
        scope = self.scope(user)
        if not scope:
            return self.all()
        return self.filter(
            _widened(scope, emergency_scope(self.model, user), committee_scope(self.model, user))
        )


def _widened(scope: Q, *grants: Q) -> Q:
    for grant in grants:
        if grant is not NOTHING:
            scope = scope | grant
    return scope


# A dict within a request (access.middleware): what the policies read or build once per request.
_REQUEST_CACHE = contextvars.ContextVar("tmo_policy_request_cache", default=None)


@contextlib.contextmanager
def policy_read_once():
    """Within this block (one request) a user's grants (live emergency accesses, committee
    grants, object permissions) are read once, for every model, and written into queries as
    lists of ids; the people in the user's scope are built once for every linked model. A page
    reads five to ten protected models, and building those parts as subqueries again for each
    took half the person page's time, for users who almost never hold a grant. Outside it,
    everything is read afresh at every call, so a grant made or ended is seen at once."""
    token = _REQUEST_CACHE.set({})
    try:
        yield
    finally:
        _REQUEST_CACHE.reset(token)


def forget_policy_reads(sender, **kwargs):
    """A write that could change what a user may see (a grant, an object permission, a role,
    anything in the access app) within a request: what was read once is read afresh."""
    cache = _REQUEST_CACHE.get()
    if not cache:
        return
    from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

    if sender._meta.app_label in {"access", "auth", "guardian"} or issubclass(
        sender, UserObjectPermissionBase | GroupObjectPermissionBase
    ):
        cache.clear()


def _once_per_request(key, compute):
    cache = _REQUEST_CACHE.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


# What `_read_grants` returns a row for, in its third column.
_EMERGENCY, _COMMITTEE, _GRANTED = 0, 1, 2


def _grants_key(user) -> tuple:
    """Where the request cache keeps the user's (emergency, committee) grants, which
    `_live_grants`, `granted_scope` and `holds_live_emergency_access` all read or fill."""
    return ("grants", user.pk)


def _live_grants(user) -> tuple[dict, dict]:
    """(emergency, committee): content type id -> ids of the rows the user holds that grant on."""
    return _once_per_request(_grants_key(user), lambda: _read_grants(user)[:2])


def holds_live_emergency_access(user) -> bool | None:
    """Whether the user holds a live emergency access, where this request has already read their
    grants (a page that read a protected model); None where it has not. Lets the emergency
    banner, on every page, skip its own query on the pages that have just answered it."""
    cache = _REQUEST_CACHE.get()
    if not cache or _grants_key(user) not in cache:
        return None
    return any(cache[_grants_key(user)][0].values())


def _read_grants(user, granted: tuple | None = None) -> tuple[dict, dict, set]:
    """The user's live emergency accesses and committee grants, and where `granted` names a
    (model, codename), their object permissions on that model: one query for all three, since
    a page that reads a person needs all of them and a round trip costs more than the rows."""
    from access.models import CommitteeAccessRequest, CommitteeGrantItem, EmergencyAccess

    emergency = (
        EmergencyAccess.objects.filter(EmergencyAccess.live_filter(timezone.now()), user=user)
        .order_by()
        .values_list("content_type_id", "object_id", Value(_EMERGENCY))
    )
    committee = (
        CommitteeGrantItem.objects.filter(
            request__in=CommitteeAccessRequest.objects.filter(
                CommitteeAccessRequest.live_filter(), members=user
            )
        )
        .order_by()
        .values_list("content_type_id", "object_id", Value(_COMMITTEE))
    )
    parts = [committee]
    if granted is not None:
        parts += _granted_rows(*granted, user)
    by_kind = {_EMERGENCY: defaultdict(set), _COMMITTEE: defaultdict(set), _GRANTED: set()}
    for content_type, object_id, kind in emergency.union(*parts, all=True):
        if kind == _GRANTED:
            by_kind[_GRANTED].add(object_id)
        else:
            by_kind[kind][content_type].add(object_id)
    return by_kind[_EMERGENCY], by_kind[_COMMITTEE], by_kind[_GRANTED]


def _ids_q(ids: set) -> Q:
    return Q(pk__in=sorted(ids)) if ids else NOTHING


# Set only by `row_by_row`: scopes built inside it check each row with correlated EXISTS.
_ROW_BY_ROW = contextvars.ContextVar("tmo_scope_row_by_row", default=False)


@contextlib.contextmanager
def row_by_row():
    """Within this block `rows_in` writes correlated EXISTS, for a scope that is checked against
    a few rows (the person behind a page's linked records) rather than listed."""
    token = _ROW_BY_ROW.set(True)
    try:
        yield
    finally:
        _ROW_BY_ROW.reset(token)


def rows_in(queryset, field: str = "pk", *, outer: str = "pk") -> Q:
    """This row's `outer` is among `queryset`'s `field` values.

    The same rule in one of two shapes. `IN (subquery)` builds the whole set once (hashed), the
    cheap way to list a scope of thousands. Under `row_by_row`, a correlated EXISTS: PostgreSQL
    checks each row with index lookups, so a page about one person does not build that person's
    whole scope (every person in the user's patches) for each query; it costs a little more
    planning, which does not grow with the data."""
    if _ROW_BY_ROW.get():
        return Q(Exists(queryset.filter(**{field: OuterRef(outer)})))
    return Q(**{"%s__in" % outer: queryset.values(field)})


def rows_in_any(sources, *, outer: str = "pk") -> Q:
    """`rows_in` for several (queryset, field) sources at once: this row's `outer` is among any
    of their values. As IN, one subquery of their UNION: an OR of several IN subqueries keeps
    PostgreSQL from joining them to the rest of the query, so it tests every row of the table
    against each (a search for one surname read all 64,000 people to find 16 of them). Under
    `row_by_row`, an OR of EXISTS, each answered by index lookups for the row."""
    sources = list(sources)
    if not sources:
        return NOTHING
    if _ROW_BY_ROW.get() or len(sources) == 1:
        return functools.reduce(
            operator.or_, (rows_in(queryset, field, outer=outer) for queryset, field in sources)
        )
    parts = [queryset.order_by().values(field) for queryset, field in sources]
    return Q(**{"%s__in" % outer: parts[0].union(*parts[1:], all=True)})


# Set only by `about_one_person`: the one person whose linked rows are being read.
_ONE_PERSON = contextvars.ContextVar("tmo_policy_one_person", default=None)


@contextlib.contextmanager
def about_one_person(person):
    """Within this block, rows linked to people are scoped for this one person: whether the
    person is in the user's working scope is settled once, and the rows are that person's if so,
    none otherwise (grants on the rows themselves still add to it). A page about one person draws
    four or five of their linked lists, and the same check as an EXISTS in each cost more to plan
    than to run. It can only narrow a scope (another person's rows are left out), so a page that
    forgot to filter by the person would show less, never more."""
    token = _ONE_PERSON.set(person)
    try:
        yield
    finally:
        _ONE_PERSON.reset(token)


def rows_of_people_in_scope(people_model, user, *, outer: str = "person") -> Q:
    """Rows whose `outer` person is in the user's working scope, each row checked on its own
    (linked records are read a person at a time, so the person's scope is never listed)."""
    person = _ONE_PERSON.get()
    if person is not None:
        in_scope = _once_per_request(
            ("person", people_model, user.pk, person.pk, _IGNORE_EMERGENCY.get(), roles_of(user)),
            lambda: _person_in_scope(people_model, user, person),
        )
        return Q(**{outer: person.pk}) if in_scope else NOTHING
    return _once_per_request(
        ("people", people_model, user.pk, outer, _IGNORE_EMERGENCY.get(), roles_of(user)),
        lambda: _rows_of_people_in_scope(people_model, user, outer),
    )


def _person_in_scope(people_model, user, person) -> bool:
    """Whether the person is in the user's working scope. One fetched through the policy for
    this user (`get_visible_or_404`) is, unless a committee grant made them visible, or an
    emergency access that is being left out: visible_to is in_scope with those added."""
    if (
        getattr(person, "_fetched_visible_to", None) == user.pk
        and type(people_model._default_manager.all()).visible_to is PolicyQuerySet.visible_to
    ):
        emergency, committee = _live_grants(user)
        content_type = ContentType.objects.get_for_model(people_model).pk
        if person.pk not in committee.get(content_type, ()) and not (
            _IGNORE_EMERGENCY.get() and person.pk in emergency.get(content_type, ())
        ):
            return True
    with row_by_row():
        return people_model._default_manager.in_scope(user).filter(pk=person.pk).exists()


def _rows_of_people_in_scope(people_model, user, outer: str) -> Q:
    with row_by_row():
        people = people_model._default_manager.in_scope(user)
    if not people.query.has_filters():
        # Every person (or none): plain IN, which needs no check per row and reads as "all of
        # them" to the published code (access.published).
        return Q(**{"%s__in" % outer: people.values("pk")})
    return Q(Exists(people.filter(pk=OuterRef(outer))))


def _may_read(user) -> bool:
    from access.compliance import may_read_records

    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return may_read_records(user)


def granted_scope(model, user, codename: str) -> Q:
    """Rows the user holds an object permission on, directly or through a group (guardian's
    direct foreign-key tables), never through a global permission."""
    key = ("granted", model, user.pk, codename)
    cache = _REQUEST_CACHE.get()
    if cache is not None and key not in cache and _grants_key(user) not in cache:
        # The first policy of the request: read the live grants in the same query.
        emergency, committee, ids = _read_grants(user, (model, codename))
        cache[_grants_key(user)] = (emergency, committee)
        cache[key] = _ids_q(ids)
    return _once_per_request(key, lambda: _ids_q(_read_grants(user, (model, codename))[2]))


def _granted_rows(model, codename: str, user) -> list:
    """`_read_grants`' rows for the user's object permissions on `model`: theirs and their
    groups'."""
    user_table = get_user_obj_perms_model(model)
    group_table = get_group_obj_perms_model(model)
    content_type = ContentType.objects.get_for_model(model).pk
    direct = user_table.objects.filter(user=user, permission__codename=codename)
    through_groups = group_table.objects.filter(
        group__in=Group.objects.filter(user=user), permission__codename=codename
    )
    return [
        table.order_by().values_list(Value(content_type), "content_object", Value(_GRANTED))
        for table in (direct, through_groups)
    ]


def committee_scope(model, user) -> Q:
    """Rows named in a live committee grant that lists this user as a member."""
    return _ids_q(_live_grants(user)[1][ContentType.objects.get_for_model(model).pk])


def emergency_scope(model, user) -> Q:
    """Rows the user opened under live emergency access."""
    if _IGNORE_EMERGENCY.get():
        return NOTHING
    return _ids_q(_live_grants(user)[0][ContentType.objects.get_for_model(model).pk])


def get_visible_or_404(queryset, user, **lookup):
    """The object twin of `visible_to`: one object in the user's scope, or 404."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    try:
        # One row: its scope checked with index lookups for that row (row_by_row), not by
        # building the set of every row the user may see.
        with row_by_row():
            visible = queryset.visible_to(user)
        obj = visible.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    # Read by `_person_in_scope`: this row passed this user's policy in this request.
    obj._fetched_visible_to = user.pk
    return obj
