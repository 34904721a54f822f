from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Customer service")

    def ready(self) -> None:
        from accounts import exports, navigation
        from customers import hooks
        from service import exports as ticket_exports
        from service import integration
        from service.views import tickets as ticket_views

        # Merge, timeline, erasure and the personal-data export of customers.
        integration.register()

        # The service desk (服务台): every user who may see tickets.
        navigation.register(
            navigation.NavItem(
                key="service",
                label=_("Service desk"),
                url_name="service:desk",
                icon="headset",
                order=50,
                allowed=lambda user: user.has_perm("service.view_ticket"),
            )
        )
        exports.register(
            ticket_exports.TICKETS,
            ticket_exports.build,
            permission=ticket_exports.EXPORT_PERMISSION,
            label=_("Tickets"),
            back_url_name="service:desk",
        )
        # "Tickets" on the customer page: the recent ones and "New ticket".
        hooks.register_customer_panel(
            "tickets",
            "service/_customer_tickets.html",
            ticket_views.customer_tickets_panel,
            order=20,
            allowed=lambda user: user.has_perm("service.view_ticket"),
        )

        # Service-level breaches, escalations and warnings (helper "sla"): their notification kinds.
        from service.services import alerts as sla_alerts

        sla_alerts.register_notification_kinds()

        # Satisfaction surveys, purchases and after-sales calls (helper "surveys").
        from accounts import seeding
        from service.seeding import seed_service
        from service.services import surveys as survey_services
        from service.services.aftersales import aftersales_agent
        from service.views import surveys as survey_views

        # After customers (10), interactions (20) and opportunities (30, 31).
        seeding.register("service", seed_service, order=40)
        navigation.register(
            navigation.NavItem(
                key="surveys",
                label=_("Satisfaction"),
                url_name="service:survey-list",
                icon="emoji-smile",
                order=51,
                allowed=lambda user: user.has_perm("service.view_surveyinvitation"),
            )
        )
        hooks.register_customer_panel(
            "purchases",
            "service/_customer_purchases.html",
            survey_views.customer_purchases_panel,
            order=30,
            allowed=lambda user: user.has_perm("service.view_purchase"),
        )
        # The after-sales call of a won order goes to an agent of the after-sales queue.
        hooks.register_aftersales_owner(aftersales_agent)
        survey_services.register_notification_kinds()

        from accounts import workbench
        from service.views.desk import workbench_panel

        # The home page of those who work on tickets: their open tickets and the desk's badges.
        workbench.register(
            workbench.Panel(
                key="service-tickets",
                template_name="service/_workbench_tickets.html",
                context=workbench_panel,
                order=5,
                allowed=lambda user: user.has_perm("service.change_ticket"),
                wide=True,
            )
        )
