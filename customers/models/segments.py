from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SegmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SegmentQuerySet":
        """One's own segments, and those shared with one's team."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        condition = Q(owner=user)
        if user.team_id:
            condition |= Q(shared=True, team_id=user.team_id)
        return self.filter(condition)


class Segment(models.Model):
    """A saved customer filter (客户分组/细分), reusable for lists, campaigns and reports.

    ``query`` is the list's query string (django-filter parameters); applying it always goes
    through the viewer's own scope, so sharing a segment never shares customers.
    """

    name = models.CharField(_("name"), max_length=100)
    query = models.TextField(_("filter"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="segments"
    )
    shared = models.BooleanField(_("shared with my team"), default=False)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="segment_unique_name")]
        indexes = [models.Index(fields=["team", "shared"], name="segment_team_shared")]

    def __str__(self) -> str:
        return self.name
