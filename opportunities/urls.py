from opportunities.views import board, orders, pages, products, quotes

app_name = "opportunities"

urlpatterns = [
    *board.urlpatterns,
    *pages.urlpatterns,
    *products.urlpatterns,
    *quotes.urlpatterns,
    *orders.urlpatterns,
]
