"""Content Security Policy with no inline script or style, no caching of personal data, and
secure cookies in production."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.factories import tenant_in_patch

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Templates WeasyPrint turns into PDFs on the server; no browser ever receives them as HTML.
PDF_SOURCES = {
    "access/meetings/report_copy_print.html",
    "access/published/_pdf_style.html",
    "access/retention/certificate_pdf.html",
    "disclosures/pack.html",
    "disclosures/work_order_pdf.html",
    "disclosures/register_pdf.html",
    "includes/register_pdf_style.html",
    "sar/pdf/bundle.html",
    "sar/pdf/register.html",
}


def csp_directives(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_page_carries_the_content_security_policy(client, officer, signed_in):
    if signed_in:
        client.force_login(officer)
        response = client.get(reverse("dashboard"))
    else:
        response = client.get(reverse("login"))
    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["default-src"] == {"'self'"}
    assert directives["script-src"] == {"'self'"}
    assert directives["style-src"] == {"'self'"}
    assert directives["img-src"] == {"'self'", "data:"}
    assert directives["object-src"] == {"'none'"}
    assert directives["frame-ancestors"] == {"'none'"}
    assert directives["base-uri"] == {"'self'"}
    assert directives["form-action"] == {"'self'"}
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_no_template_has_inline_script_or_style():
    offending = []
    for path in TEMPLATES.rglob("*.html"):
        if str(path.relative_to(TEMPLATES)) in PDF_SOURCES:
            continue
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offending.append("%s: inline <script>" % path.relative_to(TEMPLATES))
        if re.search(r"\sstyle=", text) or "<style" in text:
            offending.append("%s: inline style" % path.relative_to(TEMPLATES))
        if re.search(r"\son[a-z]+=", text):
            offending.append("%s: inline event handler" % path.relative_to(TEMPLATES))
    assert offending == []


def test_the_qr_code_page_needs_no_inline_style_or_script(client):
    from access.roles import Role
    from tests.factories import user_with_role

    user = user_with_role(Role.HOUSING_OFFICER)
    client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery staple"}
    )
    body = client.get(reverse("two_factor_setup")).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert "style=" not in svg
    assert "<script" not in svg


def test_a_person_page_is_never_stored(officer_client, patch):
    person = tenant_in_patch(patch)
    response = officer_client.get(reverse("person_detail", args=[person.pk]))
    assert response.status_code == 200
    assert person.last_name in response.content.decode()
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


def test_the_sign_in_steps_are_never_stored_either(client):
    from access.roles import Role
    from tests.factories import user_with_role

    user = user_with_role(Role.HOUSING_OFFICER)
    client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery staple"}
    )
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_cookies_are_secure_http_only_and_same_site_when_configured(client, officer):
    client.force_login(officer)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    response = client.post(reverse("logout"))
    page = client.get(reverse("login"))
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"]
    client.post(
        reverse("login"),
        {"username": officer.username, "password": "correct horse battery staple"},
    )
    session = client.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_production_settings_send_cookies_only_over_https(tmp_path):
    from tests.tmo.test_settings import PRODUCTION_ENV, run_python

    result = run_python(
        "import tmo.settings.production as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_NAME, "
        "s.CSRF_COOKIE_NAME, s.SECURE_HSTS_SECONDS > 0, s.SESSION_EXPIRE_AT_BROWSER_CLOSE)",
        {**PRODUCTION_ENV, "TMO_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
    ]
