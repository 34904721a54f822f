"""Form payloads for the customer create and edit pages (customers.views.profiles)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Industry, Source

CREATE_URL = "/customers/new/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
VALID_ID_CARD = "11010519491231002X"


def edit_url(customer: Customer) -> str:
    return reverse("customers:customer-edit", args=[customer.pk])


def contacts_management(total: int = 2) -> dict[str, str]:
    return {
        "contacts-TOTAL_FORMS": str(total),
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "20",
    }


def enterprise_payload(**overrides) -> dict:
    data = {
        "kind": "enterprise",
        "name": "杭州云帆科技有限公司",
        "phone": "0571-8888 1234",
        "email": "info@yunfan.example.cn",
        "industry": str(Industry.objects.order_by("order").first().pk),
        "employee_band": "50-199",
        "revenue_band": "5m-50m",
        "website": "https://www.yunfan.example.cn",
        "needs": "需要一套覆盖全国门店的会员管理系统",
        "source": str(Source.objects.order_by("order").first().pk),
        "first_contact_date": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "region": "domestic",
        "province": "浙江省",
        "city": "杭州",
        "address": "西湖区文三路 100 号",
        "notes": "",
        "expected_annual_value": "600000",
        "stage": "intent",
        **contacts_management(),
        "contacts-0-name": "王经理",
        "contacts-0-title": "采购经理",
        "contacts-0-phone": "138 0013 8000",
        "contacts-0-email": "wang@yunfan.example.cn",
        "attachments-category": "business_card",
    }
    data.update(overrides)
    return data


def individual_payload(**overrides) -> dict:
    data = {
        "kind": "individual",
        "name": "张三",
        "phone": "+86 139 0000 1111",
        "gender": "male",
        "birthday": "1985-06-01",
        "occupation": "工程师",
        "id_card_number": VALID_ID_CARD.lower(),
        "bank_card_number": "6222 0200 0000 1234 567",
        "needs": "个人理财咨询",
        "source": str(Source.objects.order_by("order").first().pk),
        "first_contact_date": timezone.localdate().isoformat(),
        "region": "domestic",
        "stage": "potential",
        "expected_annual_value": "20000",
        **contacts_management(),
        "attachments-category": "other",
    }
    data.update(overrides)
    return data


def edit_payload(customer: Customer, **overrides) -> dict:
    data = {
        "kind": customer.kind,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "industry": str(customer.industry_id or ""),
        "employee_band": customer.employee_band,
        "source": str(customer.source_id),
        "region": customer.region,
        "stage": customer.stage,
        "version": str(customer.version),
    }
    data.update(overrides)
    return data
