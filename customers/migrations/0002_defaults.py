"""Default industries and sources (SPEC 2), and the customer permissions of each role."""

from django.db import migrations

from accounts.roles import grant_permissions

SOURCES = [
    ("电话", "Phone"),
    ("拜访", "Visit"),
    ("官网表单", "Website form"),
    ("展会", "Trade show"),
    ("合作伙伴推荐", "Partner referral"),
    ("市场活动", "Campaign"),
    ("其他", "Other"),
]

INDUSTRIES = [
    ("制造业", "Manufacturing"),
    ("信息技术", "Information technology"),
    ("金融", "Finance"),
    ("零售", "Retail"),
    ("医疗健康", "Healthcare"),
    ("教育", "Education"),
    ("房地产", "Real estate"),
    ("物流", "Logistics"),
    ("能源", "Energy"),
    ("餐饮", "Food and beverage"),
    ("政府及公共事业", "Government and public sector"),
    ("其他", "Other"),
]

GRANTS = {
    "Sales rep": ["customers.add_customer", "customers.change_customer", "customers.view_customer"],
    "Sales manager": [
        "customers.add_customer",
        "customers.change_customer",
        "customers.delete_customer",
        "customers.view_customer",
    ],
    "Sales director": ["customers.view_customer"],
    "Service agent": ["customers.view_customer"],
    "Administrator": [
        "customers.view_customer",
        "customers.add_industry",
        "customers.change_industry",
        "customers.delete_industry",
        "customers.view_industry",
        "customers.add_source",
        "customers.change_source",
        "customers.delete_source",
        "customers.view_source",
    ],
}


def create_defaults(apps, schema_editor):
    for model_name, rows in (("Source", SOURCES), ("Industry", INDUSTRIES)):
        model = apps.get_model("customers", model_name)
        for order, (name, name_en) in enumerate(rows, start=1):
            model.objects.get_or_create(name=name, defaults={"name_en": name_en, "order": order * 10})
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
