from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = _("Interactions and follow-ups")

    def ready(self) -> None:
        from interactions import integration

        integration.register()

        from accounts import seeding
        from interactions.seeding import seed_interactions

        seeding.register("interactions", seed_interactions, order=20)

        from accounts import exports, navigation
        from interactions import exports as interaction_exports

        navigation.register(
            navigation.NavItem(
                key="interactions",
                label=_("Follow-ups"),
                url_name="interactions:task-list",
                icon="calendar-check",
                order=30,
                allowed=lambda user: user.has_perm("interactions.view_followuptask"),
            )
        )
        # Exporting needs the records' view permission too, checked by the builders and the views.
        exports.register(
            interaction_exports.INTERACTIONS,
            interaction_exports.build_interactions,
            permission=interaction_exports.EXPORT_PERMISSION,
            label=_("Interactions"),
            back_url_name="interactions:interaction-list",
        )
        exports.register(
            interaction_exports.TASKS,
            interaction_exports.build_tasks,
            permission=interaction_exports.EXPORT_PERMISSION,
            label=_("Follow-up tasks"),
            back_url_name="interactions:task-list",
        )
