from interactions.views import lists, logging

app_name = "interactions"

urlpatterns = [*logging.urlpatterns, *lists.urlpatterns]
