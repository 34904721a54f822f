from django.contrib import admin

from opportunities.models import LostReason, Stage


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "order", "probability", "is_won", "is_lost", "expected_days", "active"]
    list_editable = ["order", "probability", "expected_days", "active"]
    ordering = ["order", "name"]


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "order", "active"]
    list_editable = ["order", "active"]
    ordering = ["order", "name"]
