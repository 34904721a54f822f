from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from accounts import seeding
        from customers.seeding import seed_customers

        seeding.register("customers", seed_customers, order=10)

        from customers import hooks, timeline

        hooks.register_timeline("customers", timeline.history_entries)

        from customers.merging import register_merge_handlers

        register_merge_handlers()

        from accounts import exports, navigation
        from customers import exports as customer_exports

        navigation.register(
            navigation.NavItem(
                key="customers",
                label=_("Customers"),
                url_name="customers:customer-list",
                icon="building",
                order=20,
                allowed=lambda user: user.has_perm("customers.view_customer"),
            )
        )
        exports.register(
            customer_exports.KIND,
            customer_exports.build,
            permission="customers.export_customer",
            label=_("Customers"),
            back_url_name="customers:customer-list",
        )

        from accounts import workbench
        from customers.views.lifecycle import review_panel

        # The lead's "Reviews waiting" panel on the home page (建档审核).
        workbench.register(
            workbench.Panel(
                key="customers-reviews",
                template_name="customers/review_list.html#workbench-panel",
                context=review_panel,
                order=20,
                allowed=lambda user: user.has_perm("customers.review_customer"),
            )
        )
