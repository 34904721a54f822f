from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualLookup(models.Model):
    """An admin-editable list entry shown in the user's language (industries, sources, tags)."""

    name = models.CharField(_("name (Chinese)"), max_length=60, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self) -> str:
        if self.name_en and not (get_language() or "").startswith("zh"):
            return self.name_en
        return self.name


class Industry(BilingualLookup):
    class Meta(BilingualLookup.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Source(BilingualLookup):
    """Where a customer came from (信息来源); an administrator can add more."""

    class Meta(BilingualLookup.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")


class TagDimension(BilingualLookup):
    """A family of tags (SPEC 2: industry, need, intent such as 2024年Q3意向, urgency)."""

    class Meta(BilingualLookup.Meta):
        verbose_name = _("tag dimension")
        verbose_name_plural = _("tag dimensions")


class Tag(models.Model):
    dimension = models.ForeignKey(
        TagDimension, verbose_name=_("dimension"), on_delete=models.PROTECT, related_name="tags"
    )
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["dimension__order", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["dimension", "name"], name="tag_unique_in_dimension")]

    def __str__(self) -> str:
        return self.name
