"""The customers app's models, split by sub-domain; import them from here."""

from customers.models.customer import (
    COMMON_FIELDS,
    ENTERPRISE_FIELDS,
    INDIVIDUAL_FIELDS,
    PRIVATE_FIELDS,
    PROFILE_FIELDS,
    Customer,
    CustomerQuerySet,
    value_class_for,
)
from customers.models.imports import CustomerImport
from customers.models.lookups import BilingualLookup, Industry, Source, Tag, TagDimension
from customers.models.related import Attachment, Contact, CustomerChange, ReviewNotice, StageChange
from customers.models.segments import Segment

__all__ = [
    "COMMON_FIELDS",
    "ENTERPRISE_FIELDS",
    "INDIVIDUAL_FIELDS",
    "PRIVATE_FIELDS",
    "PROFILE_FIELDS",
    "Attachment",
    "BilingualLookup",
    "Contact",
    "Customer",
    "CustomerChange",
    "CustomerImport",
    "CustomerQuerySet",
    "Industry",
    "ReviewNotice",
    "Segment",
    "Source",
    "StageChange",
    "Tag",
    "TagDimension",
    "value_class_for",
]
