from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and teams")

    def ready(self) -> None:
        from accounts import navigation

        navigation.register(navigation.NavItem("home", _("Workbench"), "home", "speedometer2", order=0))
