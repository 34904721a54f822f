from opportunities.views import board, pages

app_name = "opportunities"

urlpatterns = [*board.urlpatterns, *pages.urlpatterns]
