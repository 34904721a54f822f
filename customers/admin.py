from django.contrib import admin

from customers.models import Industry, Source, Tag, TagDimension


@admin.register(Industry, Source)
class BilingualLookupAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["active"]
    search_fields = ["name", "name_en"]


class TagInline(admin.TabularInline):
    model = Tag
    fields = ["name", "order", "active"]
    extra = 1


@admin.register(TagDimension)
class TagDimensionAdmin(BilingualLookupAdmin):
    """Tag dimensions (行业, 需求, 意向, 紧急程度 …) with their tags; a tag in use is deactivated,
    not deleted (PROTECT keeps customers' tags), and then no longer offered in forms."""

    inlines = [TagInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "dimension", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["dimension", "active"]
    list_select_related = ["dimension"]
    search_fields = ["name"]
