"""Forms of the price list and quotes: the product form, the quote header (with the lock version
read, for optimistic locking) and its line items as a formset.

The product select of a line is built once for the whole formset from one list of products
(``ProductChoiceField``), so neither rendering nor validating N lines costs N queries.
"""

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opportunities.models import Opportunity, Product, Quote
from opportunities.selectors_quotes import contact_choices
from opportunities.services.products import normalize_code
from opportunities.services.quotes import HEADER_FIELDS, MAX_LINES

EMPTY = "---------"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "unit", "list_price", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"code": _("Unique; stored in capital letters, e.g. CRM-STD-01.")}

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        taken = Product.objects.filter(code=code)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                _("Product code %(code)s is already used by another product."),
                code="duplicate",
                params={"code": code},
            )
        return code

    def validate_unique(self) -> None:
        """The code's uniqueness is checked in clean_code, with a message that names the code."""

    def product_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class QuoteForm(forms.ModelForm):
    """The quote header; editing a draft also carries ``lock_version`` and ``seen``."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    # What the form showed when it was read: names the fields someone else changed meanwhile.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Quote
        fields = HEADER_FIELDS
        widgets = {
            "valid_until": _date_input(),
            "terms": forms.Textarea(attrs={"rows": 4}),
            "rate_to_cny": forms.NumberInput(attrs={"step": "0.000001", "data-quote-rate": ""}),
            "tax_rate": forms.NumberInput(attrs={"step": "0.01", "data-quote-tax": ""}),
            "currency": forms.Select(attrs={"data-quote-currency": ""}),
        }
        # Translators: the heading of a quote, not a person's job title.
        labels = {"title": _("Quote title")}

    def __init__(self, *args, opportunity: Opportunity, snapshot: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opportunity = opportunity
        self.fields["contact"].queryset = contact_choices(opportunity)
        self.fields["contact"].empty_label = EMPTY
        self.fields["rate_to_cny"].required = False
        self.fields["rate_to_cny"].help_text = _("Required for a currency other than CNY.")
        self.fields["terms"].help_text = _("Payment terms, delivery, warranty… printed on the quote.")
        if self.instance.pk:
            self.fields["lock_version"].required = True
            if not self.is_bound:
                self.initial["lock_version"] = self.instance.lock_version
                self.initial["seen"] = json.dumps(snapshot or {})
        else:
            del self.fields["lock_version"]
            del self.fields["seen"]

    def clean_valid_until(self):
        valid_until = self.cleaned_data["valid_until"]
        if valid_until and valid_until < timezone.localdate():
            raise ValidationError(_("The date the quote is valid until cannot be in the past."), code="past")
        return valid_until

    def clean(self):
        data = super().clean()
        currency = data.get("currency")
        if currency == Opportunity.Currency.CNY:
            data["rate_to_cny"] = Decimal(1)
        elif currency and not data.get("rate_to_cny"):
            self.add_error("rate_to_cny", _("Enter the rate to CNY for a quote in another currency."))
        return data

    def header(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in HEADER_FIELDS}

    def seen_values(self) -> dict[str, str] | None:
        try:
            value = json.loads(self.cleaned_data.get("seen") or "null")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


class ProductChoiceField(forms.ChoiceField):
    """A product from a list fetched once for every line; cleans to the Product (or None)."""

    def __init__(self, *, products: list[Product] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_products(products)

    def set_products(self, products: list[Product]) -> None:
        self.products = {str(product.pk): product for product in products}
        self.choices = [
            ("", EMPTY),
            *((key, f"{product.name} ({product.code})") for key, product in self.products.items()),
        ]

    def prepare_value(self, value):
        return value.pk if isinstance(value, Product) else value

    def clean(self, value) -> Product | None:
        value = super().clean(value)
        return self.products.get(str(value)) if value not in (None, "") else None


def _cell(widget_class: type[forms.Widget], css: str, data: str, label, **attrs) -> forms.Widget:
    """A widget in the lines table: no visible label, so it carries its own aria-label."""
    return widget_class(attrs={"class": css, f"data-line-{data}": "", "aria-label": label, **attrs})


_INPUT = "form-control form-control-sm"


class QuoteLineForm(forms.Form):
    product = ProductChoiceField(
        label=_("Product"),
        required=False,
        widget=_cell(forms.Select, "form-select form-select-sm", "product", _("Product")),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        widget=_cell(forms.TextInput, _INPUT, "description", _("Description")),
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=20,
        required=False,
        widget=_cell(forms.TextInput, _INPUT, "unit", _("Unit")),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        initial=1,
        error_messages={"min_value": _("The quantity must be more than zero.")},
        widget=_cell(forms.NumberInput, _INPUT + " text-end", "quantity", _("Quantity"), step="any"),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        error_messages={"min_value": _("Enter a unit price of zero or more.")},
        widget=_cell(forms.NumberInput, _INPUT + " text-end", "price", _("Unit price"), step="0.01"),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        initial=0,
        required=False,
        error_messages={
            "min_value": _("The discount is between 0 and 100."),
            "max_value": _("The discount is between 0 and 100."),
        },
        widget=_cell(forms.NumberInput, _INPUT + " text-end", "discount", _("Discount (%)"), step="0.01"),
    )

    def __init__(self, *args, products: list[Product] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].set_products(products)

    def clean(self):
        data = super().clean()
        product = data.get("product")
        if (
            product is None
            and not (data.get("description") or "").strip()
            and "description" not in self.errors
        ):
            self.add_error("description", _("Choose a product or enter a description."))
        if product is None and data.get("unit_price") is None and "unit_price" not in self.errors:
            self.add_error("unit_price", _("Enter the unit price (or choose a product)."))
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal(0)
        return data

    def _post_clean(self) -> None:
        super()._post_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class BaseQuoteLineFormSet(forms.BaseFormSet):
    """The lines of a quote: rows left empty are ignored, ticked "remove" rows dropped, at least
    one line is required."""

    def __init__(self, *args, products: list[Product] = (), **kwargs) -> None:
        self.products = list(products)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    def filled(self) -> list[forms.Form]:
        return [form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.filled():
            raise ValidationError(_("A quote needs at least one line."), code="no_lines")

    def lines(self) -> list[dict[str, Any]]:
        """Cleaned lines for the quote services, in the order shown."""
        return [
            {
                "product": form.cleaned_data.get("product"),
                "description": form.cleaned_data.get("description", ""),
                "unit": form.cleaned_data.get("unit", ""),
                "quantity": form.cleaned_data["quantity"],
                "unit_price": form.cleaned_data.get("unit_price"),
                "discount_percent": form.cleaned_data.get("discount_percent") or Decimal(0),
            }
            for form in self.filled()
        ]


def line_formset_class(extra: int) -> type[BaseQuoteLineFormSet]:
    return forms.formset_factory(
        QuoteLineForm,
        formset=BaseQuoteLineFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_LINES,
        absolute_max=MAX_LINES,
        validate_max=True,
    )


# Empty rows offered without JavaScript (with it, "add a line" adds more).
NEW_QUOTE_EXTRA = 3
EDIT_QUOTE_EXTRA = 2
LINES_PREFIX = "lines"


def line_formset(data=None, *, products: list[Product], initial=None, extra: int) -> BaseQuoteLineFormSet:
    formset_class = line_formset_class(extra)
    return formset_class(data, initial=initial, products=products, prefix=LINES_PREFIX)


def plain_quantity(quantity: Decimal) -> Decimal:
    """``2.000`` → ``2``, ``2.500`` → ``2.5`` (never ``1E+1``)."""
    if quantity == quantity.to_integral_value():
        return quantity.quantize(Decimal(1))
    return quantity.normalize()


def line_initial(lines) -> list[dict[str, Any]]:
    return [
        {
            "product": line.product_id,
            "description": line.description,
            "unit": line.unit,
            "quantity": plain_quantity(line.quantity),
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
        }
        for line in lines
    ]


def product_data(products: list[Product]) -> dict[str, dict[str, str]]:
    """What the form's script fills a line with when a product is chosen (list price in CNY)."""
    return {
        str(product.pk): {"name": product.name, "unit": product.unit, "price": str(product.list_price)}
        for product in products
    }
