from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as accounts_views

admin.site.site_header = _("CRM administration")
admin.site.site_title = _("CRM administration")
admin.site.index_title = _("Users, teams, roles and settings")

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", accounts_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("customers/", include("customers.urls")),
    path("", include("interactions.urls")),
    path("", include("opportunities.urls")),
    path("", include("service.urls")),
    path("", include("analytics.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
