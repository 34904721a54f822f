"""The panels of the home page (我的工作台), filled by the apps that have something to show.

``accounts`` sits below every other app, so it cannot ask them for their numbers; each app
registers its panels in ``AppConfig.ready()`` and the ``home`` view renders the ones the user
may see, in order. A panel is one small template rendered with the dict its ``context`` returns;
returning None leaves the panel out for this request (nothing to show).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    key: str
    template_name: str  # may name a template partial: "app/page.html#panel"
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100
    # Checked before ``context`` is called, so a panel costs no query for users who never see it.
    allowed: Callable[[Any], bool] = lambda user: True
    # Spans the whole home page, above the others (the rep's workbench).
    wide: bool = False


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.key] = panel


def unregister(key: str) -> None:
    _panels.pop(key, None)


def panels_for(user) -> list[Panel]:
    return [
        panel for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)) if panel.allowed(user)
    ]


def render_panels(request: HttpRequest) -> list[SafeString]:
    """The HTML of each panel ``request.user`` may see, in order."""
    rendered = []
    for panel in panels_for(request.user):
        context = panel.context(request)
        if context is None:
            continue
        rendered.append(render_to_string(panel.template_name, {"panel": panel, **context}, request=request))
    return rendered
