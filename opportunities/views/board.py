"""The pipeline board (销售漏斗看板): a column per open stage with count, total and bounded cards.

Cards move with their small form (no JavaScript: it posts to the move page, which asks for what
is missing, e.g. the lost reason) or by dragging (static/js/opportunity-board.js posts the same
form with ``HX-Request``). After a move posted from the board, the move view answers with the
board's columns re-rendered under the board's current filters (``board_moved``), swapped in place.
"""

from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from opportunities.models import Opportunity
from opportunities.selectors import BOARD_CARDS, board_columns, board_filter, open_stages, stage_choices
from opportunities.services.aftersales import aftersales_task_for

VIEW = "opportunities.view_opportunity"
CHANGE = "opportunities.change_opportunity"
# The board's filters travel with each card's form (hidden "board" field) as a query string.
MAX_FILTER_LENGTH = 1000


def age_class(days: int, expected: int) -> str:
    """Amber past the stage's expected days, red past twice that (none when no expectation)."""
    if expected <= 0 or days <= expected:
        return ""
    return "danger" if days > 2 * expected else "warning"


def _board_context(request: HttpRequest, params: QueryDict) -> dict:
    """Columns, cards and filters of the board under ``params``, in a constant number of queries."""
    user = request.user
    filterset = board_filter(actor=user, params=params)
    stages = list(open_stages())
    columns = board_columns(filterset.qs, stages, per_column=BOARD_CARDS)
    now = timezone.now()
    # The move select lists every active stage; built once, not per card.
    move_stages = list(stage_choices())
    filter_query = params.urlencode()
    for column in columns:
        column["list_url"] = (
            f"{reverse('opportunities:opportunity-list')}?status=open&stage={column['stage'].pk}"
            + (f"&{filter_query}" if filter_query else "")
        )
        for card in column["cards"]:
            card.age_days = card.days_in_stage(now)
            card.age_class = age_class(card.age_days, column["stage"].expected_days)
    board_url = reverse("opportunities:opportunity-board") + (f"?{filter_query}" if filter_query else "")
    return {
        "filter": filterset,
        "columns": columns,
        "move_stages": move_stages,
        "can_change": user.has_perm(CHANGE),
        "board_url": board_url,
        "board_query": filter_query,
    }


@require_GET
def opportunity_board(request: HttpRequest) -> HttpResponse:
    access.require(request.user, VIEW)
    return TemplateResponse(request, "opportunities/board.html", _board_context(request, request.GET))


def board_params(request: HttpRequest) -> QueryDict | None:
    """The board's filters posted with a card's form; None when the form was not posted from the board."""
    if "board" not in request.POST:
        return None
    return QueryDict(request.POST["board"][:MAX_FILTER_LENGTH])


def moved_message(opportunity: Opportunity) -> str:
    return _("%(name)s moved to %(stage)s.") % {"name": opportunity.name, "stage": opportunity.stage}


def aftersales_notice(opportunity: Opportunity, back: str = "") -> SafeString | None:
    """After a win: "An after-sales call is planned for <date>", with a link to reschedule it."""
    if not opportunity.stage.is_won:
        return None
    task = aftersales_task_for(opportunity)
    if task is None:
        return None
    edit = reverse("interactions:task-edit", args=[task.pk])
    if back:
        edit += "?" + QueryDict.fromkeys(["next"], back).urlencode()
    return format_html(
        '{} <a href="{}">{}</a>',
        _("An after-sales call is planned for %(date)s.")
        % {"date": date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")},
        edit,
        _("Edit or reschedule it"),
    )


def board_moved(request: HttpRequest, opportunity: Opportunity, params: QueryDict) -> HttpResponse:
    """The answer to a move posted from the board with JavaScript: its columns under the same
    filters (counts and totals of both columns updated), to replace ``#opportunity-board``."""
    context = _board_context(request, params)
    context["moved"] = opportunity
    context["notices"] = [moved_message(opportunity)]
    if notice := aftersales_notice(opportunity, context["board_url"]):
        context["notices"].append(notice)
    response = TemplateResponse(request, "opportunities/board.html#columns", context)
    response["HX-Retarget"] = "#opportunity-board"
    response["HX-Reswap"] = "outerHTML"
    patch_vary_headers(response, ["HX-Request"])
    return response


urlpatterns = [path("opportunities/board/", opportunity_board, name="opportunity-board")]
