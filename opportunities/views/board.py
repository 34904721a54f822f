"""The pipeline board (销售漏斗看板): a column per open stage with count, total and bounded cards."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import access
from opportunities.selectors import BOARD_CARDS, board_columns, board_filter, open_stages, stage_choices

VIEW = "opportunities.view_opportunity"
CHANGE = "opportunities.change_opportunity"


def age_class(days: int, expected: int) -> str:
    """Amber past the stage's expected days, red past twice that (none when no expectation)."""
    if expected <= 0 or days <= expected:
        return ""
    return "danger" if days > 2 * expected else "warning"


@require_GET
def opportunity_board(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.require(user, VIEW)
    filterset = board_filter(actor=user, params=request.GET)
    stages = list(open_stages())
    columns = board_columns(filterset.qs, stages, per_column=BOARD_CARDS)
    now = timezone.now()
    # The move select lists every active stage; built once, not per card.
    move_stages = list(stage_choices())
    filter_query = request.GET.urlencode()
    for column in columns:
        column["list_url"] = (
            f"{reverse('opportunities:opportunity-list')}?status=open&stage={column['stage'].pk}"
            + (f"&{filter_query}" if filter_query else "")
        )
        for card in column["cards"]:
            card.age_days = card.days_in_stage(now)
            card.age_class = age_class(card.age_days, column["stage"].expected_days)
    context = {
        "filter": filterset,
        "columns": columns,
        "move_stages": move_stages,
        "can_change": user.has_perm(CHANGE),
        "board_url": request.get_full_path(),
    }
    return TemplateResponse(request, "opportunities/board.html", context)


urlpatterns = [path("opportunities/board/", opportunity_board, name="opportunity-board")]
