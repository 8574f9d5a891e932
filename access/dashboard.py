"""Panels on the signed-in home page, contributed by each area without the page knowing them."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    title: str
    count: int
    url: str
    link_text: str
    description: str = ""
    urgent: bool = False
    items: list = field(default_factory=list)


_PANELS: list[Callable] = []


def dashboard_panel(func: Callable) -> Callable:
    """Register `func(user) -> Panel | None`; None when the panel is not for this user."""
    _PANELS.append(func)
    return func


def panels_for(user) -> list[Panel]:
    panels = [panel for func in _PANELS if (panel := func(user)) is not None]
    return sorted(panels, key=lambda p: (not p.urgent, p.title))
