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
        from interactions.views.manager import may_open_team_page

        navigation.register(
            navigation.NavItem(
                # Not "interactions": that key marks "Follow-ups" active on every interactions page.
                key="interactions-team",
                label=_("Team follow-ups"),
                url_name="interactions:team",
                icon="people",
                order=31,
                allowed=may_open_team_page,
            )
        )
        navigation.register(
            navigation.NavItem(
                key="interactions-calendar",
                label=_("Task calendar"),
                url_name="interactions:calendar",
                icon="calendar3",
                order=32,
                allowed=lambda user: user.has_perm("interactions.view_followuptask"),
            )
        )
        from interactions.services.reminders import register_notification_kinds

        # Reminder kinds of follow-up tasks, listed on the preferences page (e-mail choices).
        register_notification_kinds()

        from interactions.views.workbench import register_panel

        # The rep's workbench (我的工作台): a wide panel, first on the home page.
        register_panel()

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
