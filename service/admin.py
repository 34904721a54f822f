"""Admin of the service set-up (queues, service levels, business hours, resolution categories):
what an administrator or a service manager shapes without code. Tickets are worked on the desk."""

from django.contrib import admin

from service.models import BusinessHours, Queue, ResolutionCategory, ServiceLevel


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "ticket_type", "auto_dispatch", "active"]
    list_editable = ["auto_dispatch", "active"]
    filter_horizontal = ["agents"]


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "ticket_type",
        "first_response_minutes",
        "resolution_minutes",
        "business_hours",
    ]
    list_editable = ["first_response_minutes", "resolution_minutes", "business_hours"]
    list_display_links = ["priority"]
    ordering = ["-priority", "ticket_type"]


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["weekday", "opens", "closes"]
    list_editable = ["opens", "closes"]
    list_display_links = ["weekday"]


@admin.register(ResolutionCategory)
class ResolutionCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "order", "active"]
    list_editable = ["order", "active"]
    ordering = ["order", "name"]
