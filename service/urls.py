from service.views import desk, sla, surveys, tickets

app_name = "service"

urlpatterns = [
    *desk.urlpatterns,
    *tickets.urlpatterns,
    *sla.urlpatterns,
    *surveys.urlpatterns,
]
