import os
import shutil
from pathlib import Path

import pytest

from tests.browser.axe import SCREENSHOTS, AxeAudit

CHROMIUM = os.environ.get("TMO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing at %s; `make test` installs it." % CHROMIUM)
        pytest.skip("Chromium is not installed at %s; run `make test` to install it." % CHROMIUM)
    # Playwright's sync API runs an event loop in this thread; the ORM calls in tests are still
    # synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def axe_audit(request, monkeypatch):
    """axe-core on every page the test's browser contexts show (see tests/browser/axe.py). The
    test ends with `axe_audit.finish()`, which records the figures and fails on serious or critical
    violations; if a passing test forgets, the teardown does it for what was scanned."""
    audit = AxeAudit(request.node.name)
    audit.activate(monkeypatch)
    yield audit
    if not audit.finished and getattr(request.node, "browser_call_passed", False):
        audit.finish()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_call_passed = report.passed
    return report


def close_context(audit, context, request):
    # The last page on screen is scanned before it goes, if a passing test did not finish the
    # audit itself.
    if not audit.finished and getattr(request.node, "browser_call_passed", False):
        for page in context.pages:
            audit.scan(page)
    context.close()


@pytest.fixture
def page(browser, axe_audit, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    axe_audit.watch(context)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    close_context(axe_audit, context, request)


@pytest.fixture
def sign_in(browser, live_server, axe_audit, request):
    """Signs users in by username, each in a fresh browser context (downloads allowed) through
    the real pages, so one journey can move between users; the contexts are closed before the
    live server stops, so no request thread outlives it."""
    contexts = []

    def signed_in(username):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        contexts.append(context)
        axe_audit.watch(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in_through_pages(page, live_server.url, username, PASSWORD)
        return page

    yield signed_in
    for context in contexts:
        close_context(axe_audit, context, request)


def shot(page, name: str) -> None:
    """Keep a full-page screenshot in test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    SCREENSHOTS[0] += 1


def current_code(secret: str) -> str:
    from base64 import b32decode

    from django_otp.oath import TOTP

    return "%06d" % TOTP(b32decode(secret)).token()


def sign_in_through_pages(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in as a person would on first use: password, then set up the authenticator app from
    the key the page shows, then keep the recovery codes."""
    page.goto(base_url + "/access/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Set up your authenticator app").wait_for()
    assert page.locator("svg.segno").count() == 1
    secret = page.locator("code.app-secret").text_content().replace(" ", "")
    page.get_by_label("Enter the code from your app").fill(current_code(secret))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert page.locator(".app-recovery-codes li").count() == 10
    page.get_by_role("button", name="I have kept my recovery codes").click()
    page.wait_for_load_state()
