from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Heartbeat, Team, User
from accounts.services import team_set_members


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "email", "team", "roles", "is_active", "last_login"]
    list_filter = ["team", "groups", "is_active", "is_staff", "is_superuser", "language"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "phone"]
    list_select_related = ["team"]
    fieldsets = (
        *BaseUserAdmin.fieldsets[:1],
        (_("Profile"), {"fields": ("display_name", "first_name", "last_name", "email", "phone")}),
        (_("Team and preferences"), {"fields": ("team", "language", "time_zone")}),
        *BaseUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "display_name",
                    "email",
                    "team",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all())


class TeamAdminForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("members"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=admin.widgets.FilteredSelectMultiple(_("members"), is_stacked=False),
        help_text=_("A user belongs to one team; adding them here moves them from their current team."),
    )

    class Meta:
        model = Team
        fields = ["name", "lead", "description"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["members"].initial = self.instance.members.all()


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "lead", "member_count", "created_at"]
    list_select_related = ["lead"]
    search_fields = ["name", "lead__username", "lead__display_name"]
    autocomplete_fields = ["lead"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total

    def save_related(self, request: HttpRequest, form: TeamAdminForm, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        team_set_members(team=form.instance, members=form.cleaned_data["members"])


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
