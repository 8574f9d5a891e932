"""A tenant who uses only a keyboard sets up their account with the code from their letter and asks
for a copy of their data, reaching the confirmation: Tab, Shift+Tab, Enter, Space and typing, no
mouse and no filling of fields by the test. Every element they land on shows where focus is, and
the skip link takes them past the header to the page's content."""

import pytest

from access.roles import Role
from sar.models import SubjectAccessRequest
from sar.services.portal import issue_activation_code
from tests.browser.conftest import shot
from tests.factories import PatchFactory, UserFactory, tenant_in_patch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TENANT_PASSWORD = "a long and unusual pass phrase 42"

# What a sighted keyboard user would read as the focused element's name.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {name: "", tag: "body", id: ""};
  const labels = el.labels ? [...el.labels].map((l) => l.textContent.trim()).join(" ") : "";
  const style = getComputedStyle(el);
  return {
    name: labels || el.getAttribute("aria-label") || el.textContent.trim(),
    tag: el.tagName.toLowerCase(),
    id: el.id,
    type: el.type || "",
    inMain: !!el.closest("main"),
    outline: [style.outlineStyle, style.outlineWidth, style.outlineColor],
    boxShadow: style.boxShadow,
    background: style.backgroundColor,
  };
}"""
TRANSPARENT = {"transparent", "rgba(0, 0, 0, 0)"}
FOCUS_YELLOW = "rgb(255, 221, 0)"


def focus_is_visible(focused: dict) -> bool:
    style, width, colour = focused["outline"]
    outline = style != "none" and width not in {"0px", ""} and colour not in TRANSPARENT
    return outline or focused["boxShadow"] != "none" or focused["background"] == FOCUS_YELLOW


class Keyboard:
    """Moves through a page with Tab as a person would, checking focus is shown each time."""

    def __init__(self, page):
        self.page = page
        self.focused_elements = 0
        self.invisible = []

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED)

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        if key not in {"Tab", "Shift+Tab"}:
            # Enter or Space may start a navigation: nothing to read until the journey waits.
            return {}
        focused = self.focused()
        if focused["tag"] != "body":
            self.focused_elements += 1
            if not focus_is_visible(focused):
                self.invisible.append((self.page.url, focused))
        return focused

    def tab_to(self, name: str, *, limit: int = 60, backwards: bool = False) -> dict:
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            focused = self.press(key)
            if name in focused["name"]:
                return focused
        raise AssertionError("Tabbing never reached %r on %s" % (name, self.page.url))

    def type_into(self, name: str, text: str) -> None:
        self.tab_to(name)
        self.page.keyboard.type(text)


@pytest.mark.assurance
def test_tenant_activates_and_asks_for_their_data_by_keyboard_alone(live_server, page, axe_audit):
    officer = UserFactory(username="olivia", roles=[Role.HOUSING_OFFICER])
    patch = PatchFactory(officers=[officer])
    tenant = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")
    code = issue_activation_code(issued_by=officer, person=tenant)
    keys = Keyboard(page)

    page.goto(live_server.url + "/rights/portal/activate/")

    # The first Tab reaches the skip link, which is shown when focused and moves focus to main.
    skip = keys.press("Tab")
    assert skip["name"] == "Skip to main content"
    assert page.get_by_role("link", name="Skip to main content").is_visible()
    keys.press("Enter")
    page.wait_for_url("**#main-content")
    assert keys.focused()["id"] == "main-content"
    # The next stop is in the page's content, past the header.
    assert keys.press("Tab")["inMain"]

    keys.type_into("Activation code", code)
    keys.type_into("Email address", "grace@mail.example")
    keys.type_into("Choose a password", TENANT_PASSWORD)
    keys.type_into("Enter the password again", TENANT_PASSWORD)
    # Back up one field and forward again, as someone checking their typing would.
    assert "Choose a password" in keys.press("Shift+Tab")["name"]
    keys.press("Tab")
    shot(page, "keyboard-activate.png")
    keys.tab_to("Set up my account")
    keys.press("Enter")
    page.get_by_role("heading", name="Your data protection requests").wait_for()

    keys.tab_to("Make a new request")
    keys.press("Enter")
    page.get_by_role("heading", name="Make a data protection request").wait_for()
    keys.tab_to("Access: a copy of my data")
    keys.press("Space")
    assert page.get_by_label("Access: a copy of my data").is_checked()
    keys.type_into("Tell us about your request", "Everything you hold about me, please.")
    shot(page, "keyboard-request.png")
    keys.tab_to("Send my request")
    keys.press("Enter")
    page.get_by_text("has been sent").wait_for()
    shot(page, "keyboard-request-sent.png")

    axe_audit.finish(keyboard_journeys=1)
    request = SubjectAccessRequest.objects.get(person=tenant)
    assert request.kind == "access"
    assert request.details == "Everything you hold about me, please."
    assert keys.focused_elements > 10
    assert not keys.invisible, keys.invisible
