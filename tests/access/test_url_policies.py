"""Invariant 1: deny by default. Every URL declares who may use it; an undeclared view never runs."""

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path

from access.decorators import policy_of
from tests.urlwalk import all_routes


def test_every_url_pattern_declares_an_access_policy():
    undeclared = [route.pattern for route in all_routes() if policy_of(route.callback) is None]
    assert undeclared == []


def test_public_urls_are_only_the_sign_in_pages():
    public = sorted(route.name for route in all_routes() if policy_of(route.callback).public)
    assert public == [
        "admin:login",
        "login",
        "logout",
        "portal_activate",
        "portal_activate_email",
        "portal_activate_email_confirm",
        "portal_request_confirm",
        "portal_request_form",
        "published_inventory",
        "published_inventory_pdf",
    ]


def undeclared_view(request):
    return HttpResponse("SHOULD-NEVER-RUN")


urlpatterns = [path("undeclared/", undeclared_view), path("", include("tmo.urls"))]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_view_without_a_policy_is_refused_even_for_a_signed_in_user(client):
    from access.roles import Role
    from tests.factories import user_with_role

    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    response = client.get("/undeclared/")
    assert response.status_code == 403
    assert b"SHOULD-NEVER-RUN" not in response.content


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/access/sign-in/")
