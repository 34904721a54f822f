from interactions.views import calendar, lists, logging, manager, workbench

app_name = "interactions"

urlpatterns = [
    *logging.urlpatterns,
    *lists.urlpatterns,
    *workbench.urlpatterns,
    *manager.urlpatterns,
    *calendar.urlpatterns,
]
