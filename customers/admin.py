from django.contrib import admin

from customers.models import Industry, Source


@admin.register(Industry, Source)
class BilingualLookupAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["active"]
    search_fields = ["name", "name_en"]
