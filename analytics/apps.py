from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics and reports")

    def ready(self) -> None:
        from accounts import navigation

        # Reports (报表): every signed-in user has a dashboard of their own numbers (analytics.views).
        navigation.register(
            navigation.NavItem(
                key="analytics",
                label=_("Reports"),
                url_name="analytics:dashboard",
                icon="bar-chart-line",
                order=60,
                allowed=lambda user: user.is_authenticated,
            )
        )

        from analytics.kpis import customers, followups, sales, service

        # The KPI sections every dashboard, export and scheduled report renders (analytics.base).
        sales.register()
        customers.register()
        followups.register()
        service.register()
