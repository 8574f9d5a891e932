"""The audit trail search, for the data protection lead: by record or person, user, action and
period, with the two questions asked most ("everything this user opened last week", "everyone
who opened this person"), a CSV export (itself recorded), and the state of the hash chain."""

from django import forms
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from access.decorators import roles_required
from access.roles import Role
from access.services import audit
from access.views.meetings import _paginate
from tmo import auditchain
from tmo.forms import GovukFormMixin

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return "%s (%s)" % (full, obj.get_username()) if full else obj.get_username()


class AuditSearchForm(GovukFormMixin, forms.Form):
    record_type = forms.ChoiceField(label="Kind of record", required=False)
    record_id = forms.CharField(label="Record number", required=False, max_length=40)
    about_person = forms.BooleanField(
        label="Include the records about this person",
        required=False,
        help_text="Their tenancies, contacts, documents, requests and everything else the data "
        "map links to them.",
    )
    actor = ActorChoiceField(
        label="User", queryset=get_user_model().objects.none(), required=False, empty_label="Anyone"
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *audit.ACTIONS.items()]
    )
    event = forms.CharField(
        label="Event name",
        required=False,
        max_length=100,
        help_text="For example disclosure_decided or audit_trail_exported.",
    )
    since = forms.DateField(label="From", required=False, widget=DATE_WIDGET)
    until = forms.DateField(label="To", required=False, widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [("", "Any kind"), *audit.record_types()]
        self.fields["actor"].queryset = get_user_model().objects.order_by("username")

    def clean(self):
        data = super().clean()
        if data.get("record_id") and not data.get("record_type"):
            self.add_error("record_type", "Choose the kind of record the number belongs to.")
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the period must be on or after its start.")
        return data

    def query(self) -> audit.AuditQuery:
        if not self.is_bound or not self.is_valid():
            return audit.AuditQuery()
        data = self.cleaned_data
        return audit.AuditQuery(
            record_type=data["record_type"],
            record_id=data["record_id"].strip(),
            about_person=data["about_person"],
            actor_id=data["actor"].pk if data["actor"] else None,
            action=data["action"],
            event=data["event"].strip(),
            since=data["since"],
            until=data["until"],
        )


def _query_string(**params) -> str:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in params.items():
        if value not in (None, "", False):
            query[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "?" + query.urlencode()


def opened_last_week_url(actor_id) -> str:
    """The first ready-made question: everything one user opened in the last seven days."""
    since, until = audit.last_week()
    return _query_string(actor=actor_id, action="opened", since=since, until=until)


def everyone_who_opened_url(record_type: str, record_id: str) -> str:
    """The second: everyone who opened one record."""
    return _query_string(record_type=record_type, record_id=record_id, action="opened")


def _export_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render(request, form, query, *, status=200):
    entries = audit.search(query) if not form.errors else audit.search(audit.AuditQuery()).none()
    page = _paginate(request, entries, "Audit trail pages")
    rows = [audit.row(entry) for entry in page.object_list]
    since, until = audit.last_week()
    record_set = bool(query.record_type and query.record_id)
    context = {
        "form": form,
        "page": page,
        "rows": [
            {"row": r, "opened_last_week_url": opened_last_week_url(r.actor_id)} for r in rows
        ],
        "filtering": query.is_set(),
        "export_query": _export_query(request),
        "last_week": (since, until),
        "record_set": record_set,
        "everyone_who_opened_url": (
            everyone_who_opened_url(query.record_type, query.record_id) if record_set else ""
        ),
        "opened_last_week_url": opened_last_week_url(query.actor_id) if query.actor_id else "",
        "readers": audit.readers(query) if record_set and query.action == "opened" else None,
        "status": audit.chain_status(),
        "head": auditchain.read_head(),
    }
    return render(request, "access/audit/search.html", context, status=status)


@roles_required(Role.DATA_PROTECTION_LEAD)
def audit_search(request):
    form = AuditSearchForm(request.GET or None)
    return _render(request, form, form.query())


@roles_required(Role.DATA_PROTECTION_LEAD)
def audit_search_csv(request):
    form = AuditSearchForm(request.GET or None)
    query = form.query()
    if form.errors:
        # Nothing leaves the system on filters the lead did not mean: show the errors.
        return _render(request, form, query, status=400)
    text, _count = audit.export_csv(exported_by=request.user, query=query)
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail-%s.csv"' % (
        timezone.localdate().isoformat()
    )
    return response


urlpatterns = [
    path("", audit_search, name="audit_search"),
    path("export.csv", audit_search_csv, name="audit_search_csv"),
]
