"""The opportunities app's models, split by sub-domain; import them from here.

- pipeline: stages, lost reasons, the opportunity and its stage history;
- catalog: products and their list prices (产品 / 价目表);
- quotes: quotes (报价单), their versions and line items;
- orders: orders / contracts (订单/合同), the payment plan (回款计划) and payments (回款记录);
- alerts: the outboxes of stale-deal alerts and overdue-payment warnings (回款预警).
"""

from opportunities.models.alerts import DealAlert, PaymentWarning
from opportunities.models.catalog import Product
from opportunities.models.orders import Instalment, Order, OrderQuerySet, Payment
from opportunities.models.pipeline import (
    CENT,
    LostReason,
    Opportunity,
    OpportunityQuerySet,
    Stage,
    StageChange,
    cny_amount,
)
from opportunities.models.quotes import Quote, QuoteLine, QuoteQuerySet

__all__ = [
    "CENT",
    "DealAlert",
    "Instalment",
    "LostReason",
    "Opportunity",
    "OpportunityQuerySet",
    "Order",
    "OrderQuerySet",
    "Payment",
    "PaymentWarning",
    "Product",
    "Quote",
    "QuoteLine",
    "QuoteQuerySet",
    "Stage",
    "StageChange",
    "cny_amount",
]
