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

        # After customers (10) and interactions (20).
        seeding.register("opportunities", seed_opportunities, order=30)

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
        exports.register(
            opportunity_exports.OPPORTUNITIES,
            opportunity_exports.build,
            permission=opportunity_exports.EXPORT_PERMISSION,
            label=_("Opportunities"),
            back_url_name="opportunities:opportunity-list",
        )
