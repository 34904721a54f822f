from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = _("Sales opportunities")

    def ready(self) -> None:
        from opportunities import integration

        # Merge, transfer, timeline, erasure and the personal-data export of customers.
        integration.register()

        from accounts import exports, navigation, seeding
        from opportunities import exports as opportunity_exports
        from opportunities.seeding import seed_opportunities
        from opportunities.seeding_sales import seed_sales_documents

        # After customers (10) and interactions (20).
        seeding.register("opportunities", seed_opportunities, order=30)
        # Products, quotes, orders and payments, for the opportunities seeded just before.
        seeding.register("sales-documents", seed_sales_documents, order=31)

        navigation.register(
            navigation.NavItem(
                key="opportunities",
                label=_("Opportunities"),
                url_name="opportunities:opportunity-board",
                icon="kanban",
                order=40,
                allowed=lambda user: user.has_perm("opportunities.view_opportunity"),
            )
        )
        # Quotes (报价单) and the price list (价目表), next to the pipeline.
        navigation.register(
            navigation.NavItem(
                key="quotes",
                label=_("Quotes"),
                url_name="opportunities:quote-list",
                icon="file-earmark-ruled",
                order=41,
                allowed=lambda user: user.has_perm("opportunities.view_quote"),
            )
        )
        navigation.register(
            navigation.NavItem(
                key="products",
                label=_("Price list"),
                url_name="opportunities:product-list",
                icon="box-seam",
                order=43,
                allowed=lambda user: user.has_perm("opportunities.view_product"),
            )
        )
        exports.register(
            opportunity_exports.OPPORTUNITIES,
            opportunity_exports.build,
            permission=opportunity_exports.EXPORT_PERMISSION,
            label=_("Opportunities"),
            back_url_name="opportunities:opportunity-list",
        )

        # Orders / contracts and collections (回款): nav, export, workbench and customer panels.
        from accounts import workbench
        from customers import hooks
        from opportunities import exports_orders
        from opportunities.views import orders as order_views

        navigation.register(
            navigation.NavItem(
                key="orders",
                label=_("Orders"),
                url_name="opportunities:order-list",
                icon="file-earmark-text",
                order=42,
                allowed=lambda user: user.has_perm("opportunities.view_order"),
            )
        )
        exports.register(
            exports_orders.ORDERS,
            exports_orders.build,
            permission=exports_orders.EXPORT_PERMISSION,
            label=_("Orders"),
            back_url_name="opportunities:order-list",
        )
        workbench.register(
            workbench.Panel(
                key="opportunities-collections",
                template_name="opportunities/_workbench_collections.html",
                context=order_views.collections_panel,
                order=30,
                allowed=lambda user: user.has_perm("opportunities.view_order"),
            )
        )
        hooks.register_customer_panel(
            "orders",
            "opportunities/_customer_orders.html",
            order_views.customer_orders_panel,
            order=10,
            allowed=lambda user: user.has_perm("opportunities.view_order"),
        )

        from opportunities.services.alerts import register_notification_kinds

        # Stale-deal alerts and overdue-payment warnings, listed on the preferences page (e-mail choices).
        register_notification_kinds()
