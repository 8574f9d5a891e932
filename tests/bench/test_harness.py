"""The benchmark's own arithmetic, reports and set-up, untimed: `make bench` is only as true as
its percentiles, and its baseline pages must never be mounted outside the bench settings."""

import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from access.decorators import policy_of
from bench import stats

SAMPLE_RESULTS = {
    "meta": {
        "started_at": "2026-11-22 08:00 UTC",
        "finished_at": "2026-11-22 08:30 UTC",
        "commit": "abc1234",
        "machine": {"cpu": "Test CPU", "cpus": 2, "memory_gb": 4.0, "os": "Linux"},
        "seed": "seed_scale --homes 500",
        "data": {"people": 1200},
        "vacuum_seconds": 12.5,
        "workers": 4,
        "users": 50,
        "duration": 60,
    },
    "figures": [
        stats.latency_figure(
            "people search scoped by policy, page of 25",
            stats.summarise([10, 12, 14, 16, 18]),
            stats.summarise([9, 10, 11, 12, 13]),
            p95_goal_ms=100,
            ratio_goal=1.5,
            base="the same search without the policy",
        ),
        {
            "what": "database time share",
            "figure": "view 3 | raw 1",
            "goal": "reported",
            "result": stats.REPORTED,
        },
    ],
}


def test_percentile_interpolates_between_the_closest_ranks_as_numpy_does():
    samples = list(range(1, 101))
    assert stats.percentile(samples, 50) == 50.5
    assert stats.percentile(samples, 95) == pytest.approx(95.05)
    assert stats.percentile(samples, 0) == 1
    assert stats.percentile(samples, 100) == 100
    assert stats.percentile([7], 95) == 7
    # Order does not matter.
    assert stats.percentile([30, 10, 20], 50) == 20
    assert stats.percentile([10, 20], 25) == 12.5


def test_percentile_refuses_no_samples_and_a_q_outside_0_to_100():
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1, 2], 101)


def test_summarise_and_ratio():
    summary = stats.summarise([1.0, 2.0, 3.0, 4.0])
    assert summary == {"count": 4, "p50": 2.5, "p95": 3.85, "mean": 2.5, "min": 1.0, "max": 4.0}
    assert stats.summarise([]) == {"count": 0}
    assert stats.ratio(3, 2) == 1.5
    assert stats.ratio(3, 0) is None
    assert stats.ratio(None, 2) is None


def test_a_latency_figure_passes_only_when_both_the_p95_and_the_ratio_meet_their_goals():
    fast = stats.summarise([10] * 20)
    assert stats.latency_figure(
        "page", fast, stats.summarise([8] * 20), p95_goal_ms=100, ratio_goal=1.5, base="b"
    )["result"] == (stats.PASS)
    # Fast enough, but twice its baseline.
    assert (
        stats.latency_figure(
            "page", fast, stats.summarise([5] * 20), p95_goal_ms=100, ratio_goal=1.5, base="b"
        )["result"]
        == stats.FAIL
    )
    # Close to its baseline, but too slow.
    assert (
        stats.latency_figure(
            "page",
            stats.summarise([200] * 20),
            stats.summarise([190] * 20),
            p95_goal_ms=100,
            ratio_goal=1.5,
            base="b",
        )["result"]
        == stats.FAIL
    )
    # No samples at all is a failure, never a pass.
    assert (
        stats.latency_figure("page", {"count": 0}, fast, p95_goal_ms=100, ratio_goal=1.5, base="b")[
            "result"
        ]
        == stats.FAIL
    )


def test_growth_is_close_to_linear_within_the_slack_and_unknown_when_a_point_is_missing():
    linear = [
        {"scale": 1, "seconds": 2.0},
        {"scale": 4, "seconds": 9.0},
        {"scale": 16, "seconds": 40},
    ]
    assert stats.growth_verdict(linear) is True
    worse = [{"scale": 1, "seconds": 2.0}, {"scale": 4, "seconds": 20.0}]
    assert stats.growth_verdict(worse) is False
    assert (
        stats.growth_verdict([{"scale": 1, "seconds": 2.0}, {"scale": 4, "seconds": None}]) is None
    )


def test_the_markdown_table_has_a_row_per_figure_with_its_goal_and_verdict():
    table = stats.markdown_table(SAMPLE_RESULTS)
    lines = table.strip().splitlines()
    assert lines[0] == "| what | figure | goal | result |"
    assert lines[1] == "| --- | --- | --- | --- |"
    assert len(lines) == 4
    assert lines[2].startswith("| people search scoped by policy, page of 25 | p50 14.00 ms")
    assert lines[2].endswith("| p95 under 100 ms; ratio under 1.5 | pass |")
    # A pipe inside a figure would split the cell.
    assert "view 3 \\| raw 1" in lines[3]


def test_the_results_page_names_the_machine_and_the_data_before_the_table():
    page = stats.results_markdown(SAMPLE_RESULTS)
    assert page.startswith("# Benchmark results\n")
    assert "Test CPU, 2 CPUs, 4.0 GB memory" in page
    assert "seed_scale --homes 500 (1200 people); vacuumed and analysed before measuring" in page
    assert "\n\n| what | figure | goal | result |" in page


def test_the_docs_block_is_replaced_in_place_and_the_rest_of_the_page_kept():
    document = "# Benchmarks\n\nHow to run.\n\n%s\nold figures\n%s\n\nAfter.\n" % (
        stats.DOC_START,
        stats.DOC_END,
    )
    updated = stats.docs_with_figures(document, SAMPLE_RESULTS)
    assert "old figures" not in updated
    assert updated.startswith("# Benchmarks\n\nHow to run.\n\n" + stats.DOC_START)
    assert updated.endswith(stats.DOC_END + "\n\nAfter.\n")
    assert "| people search scoped by policy, page of 25 |" in updated
    # Running again gives the same page.
    assert stats.docs_with_figures(updated, SAMPLE_RESULTS) == updated


BASELINE_PATHS = (
    "/bench/people/",
    "/bench/people/1/",
    "/bench/people/1/unguarded/",
    "/bench/bare/",
)


def test_the_baseline_pages_are_not_mounted_under_the_normal_settings():
    assert settings.ROOT_URLCONF == "tmo.urls"
    assert "bench" not in settings.INSTALLED_APPS
    for path in BASELINE_PATHS:
        with pytest.raises(Resolver404):
            resolve(path)
    for name in (
        "bench_search_unscoped",
        "bench_person_plain",
        "bench_person_unguarded",
        "bench_bare",
    ):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1] if name.startswith("bench_person") else [])


def test_the_bench_urls_are_the_site_plus_the_baselines_each_with_an_access_policy():
    from tmo.urls import urlpatterns

    for path in BASELINE_PATHS:
        match = resolve(path, urlconf="bench.urls")
        assert policy_of(match.func) is not None
    # The site's own pages resolve the same under the bench urls.
    assert resolve("/people/", urlconf="bench.urls").func == resolve("/people/").func
    import bench.urls

    assert len(bench.urls.urlpatterns) == len(urlpatterns) + len(BASELINE_PATHS)


@override_settings(ROOT_URLCONF="bench.urls")
def test_the_unguarded_person_page_is_the_person_page_without_its_audit(
    client, patch, officer, access_entries
):
    """The baseline the person page is timed against shows the same page (here for a person
    the officer may see, so that the policy removes nothing) and writes no access audit."""
    from records.models import ContactRecord
    from tests.factories import ContactRecordFactory, MarkerFactory, tenant_in_patch

    person = tenant_in_patch(patch, last_name="Baseline")
    MarkerFactory(person=person)
    ContactRecordFactory(person=person)
    client.force_login(officer)

    def body(path):
        response = client.get(path)
        assert response.status_code == 200
        # The CSRF token is masked afresh for every response.
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    before = access_entries(person).count()
    unguarded = body("/bench/people/%d/unguarded/" % person.pk)
    assert access_entries(person).count() == before
    assert body("/people/%d/" % person.pk) == unguarded
    assert access_entries(person).count() == before + 1
    assert ContactRecord.objects.get(person=person).subject in unguarded


def test_the_bench_sign_in_computes_the_code_the_device_accepts(db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from bench.client import current_code
    from tests.factories import UserFactory

    device = TOTPDevice.objects.create(user=UserFactory(), name="Bench", confirmed=True)
    assert device.verify_token(current_code(device.key))


def test_a_small_heavy_subject_has_its_records_files_and_an_open_access_request(db, patch):
    from access.roles import Role
    from bench import setup
    from records.models import ContactRecord, Document
    from tests.factories import user_with_role
    from tmo import filestore

    request = setup.heavy_subject(
        tag="t1",
        scale=0.05,
        patch=patch,
        logged_by=user_with_role(Role.SENIOR_OFFICER),
        decided_by=user_with_role(Role.SENIOR_OFFICER),
    )
    person = request.person
    assert request.kind == "access" and request.is_open()
    assert ContactRecord.objects.filter(person=person).count() == 100
    documents = Document.objects.filter(person=person)
    assert documents.count() == 5
    assert filestore.read_decrypted(documents.first().storage_name).startswith(b"%PDF")
    assert person.disclosure_requests.count() == 1


def test_bench_staff_can_read_the_people_in_their_patch(db, patch):
    from django.contrib.auth import get_user_model

    from access.compliance import may_read_records
    from bench import setup
    from tests.factories import tenant_in_patch

    tenant = tenant_in_patch(patch, last_name="Benchley")
    account = setup.staff_accounts("bench-test", 1)[0]
    user = get_user_model().objects.get(pk=account["id"])
    assert user.check_password(account["password"]) and may_read_records(user)
    targets = setup.officer_targets(account["id"])
    assert targets["person_ids"] == [tenant.pk]
    assert targets["terms"] == ["Benchley"]
