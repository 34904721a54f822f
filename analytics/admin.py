"""Administrators manage everyone's report subscriptions and read the built reports and their
e-mails here (``analytics`` permissions granted by migration 0002)."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from analytics.models import ReportDelivery, ReportSnapshot, ReportSubscription


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "frequency", "team", "active", "created_at"]
    list_filter = ["frequency", "active", "team"]
    search_fields = ["user__username", "user__display_name", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "team"]


class ReportDeliveryInline(admin.TabularInline):
    model = ReportDelivery
    extra = 0
    can_delete = False
    fields = ["recipient", "status", "attempts", "sent_at", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):
    """Read-only: a report is what was computed when it was built."""

    list_display = ["period_start", "kind", "scope_label", "status", "built_at", "built_by"]
    list_filter = ["kind", "status"]
    search_fields = ["scope_label", "scope_key"]
    date_hierarchy = "period_start"
    list_select_related = ["built_by"]
    inlines = [ReportDeliveryInline]
    readonly_fields = [
        "kind",
        "period_start",
        "period_end",
        "scope_key",
        "scope_label",
        "status",
        "attempts",
        "error",
        "built_at",
        "built_by",
        "language",
        "view_link",
    ]
    exclude = [
        "data",
        "scope_teams",
        "scope_all_teams",
        "scope_owner",
        "scope_viewer",
        "claim_token",
        "lease_until",
    ]

    @admin.display(description=_("report"))
    def view_link(self, obj: ReportSnapshot) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open the report"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ["snapshot", "recipient", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["recipient__username", "recipient__email"]
    list_select_related = ["snapshot", "recipient"]
    readonly_fields = ["snapshot", "recipient", "subscription", "status", "attempts", "sent_at", "error"]
    exclude = ["claim_token", "lease_until"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
