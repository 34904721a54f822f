"""Trigram search index, the permissions of issue 3 per role, default tag dimensions, and the
normalised keys of customers created before they existed."""

from django.db import migrations

from accounts.roles import grant_permissions
from customers import normalize

GRANTS = {
    "Sales rep": ["customers.import_customer", "customers.export_customer"],
    "Sales manager": [
        "customers.merge_customer",
        "customers.transfer_customer",
        "customers.review_customer",
        "customers.override_value_class",
        "customers.import_customer",
        "customers.export_customer",
        "customers.restore_customer",
        "customers.view_private_data",
        "customers.erase_personal_data",
    ],
    "Sales director": ["customers.export_customer", "customers.view_private_data"],
    "Administrator": [
        "customers.purge_customer",
        "customers.restore_customer",
        "customers.export_customer",
        "customers.erase_personal_data",
        *[
            f"customers.{verb}_{model}"
            for verb in ("add", "change", "delete", "view")
            for model in ("tag", "tagdimension")
        ],
    ],
}

# (dimension, English), [tags]
TAG_DIMENSIONS = [
    (("行业", "Industry"), ["制造", "互联网", "金融", "零售", "医疗"]),
    (("需求", "Need"), ["CRM系统", "ERP", "售后工单", "数据分析", "私有化部署"]),
    (("意向", "Intent"), ["2026年Q4意向", "2027年Q1意向", "预算已批", "观望"]),
    (("紧急程度", "Urgency"), ["紧急", "一般", "不急"]),
]


def forwards(apps, schema_editor):
    # tests/browser/conftest.py replays data migrations without a schema editor.
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The list's search box: search_text ILIKE '%…%' (customers.selectors.customer_list).
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_search_trgm ON customers_customer "
            "USING gin (search_text gin_trgm_ops)"
        )
    grant_permissions(apps, GRANTS)
    TagDimension = apps.get_model("customers", "TagDimension")
    Tag = apps.get_model("customers", "Tag")
    for order, ((name, name_en), tags) in enumerate(TAG_DIMENSIONS, start=1):
        dimension, _ = TagDimension.objects.get_or_create(
            name=name, defaults={"name_en": name_en, "order": order * 10}
        )
        for tag_order, tag in enumerate(tags, start=1):
            Tag.objects.get_or_create(dimension=dimension, name=tag, defaults={"order": tag_order * 10})
    Customer = apps.get_model("customers", "Customer")
    batch = []
    for customer in (
        Customer.objects.filter(name_key="").only("pk", "number", "name", "phone", "email").iterator(2000)
    ):
        customer.name_key = normalize.name_key(customer.name)
        customer.phone_key = normalize.phone_key(customer.phone)
        customer.email_key = normalize.email_key(customer.email)
        customer.search_text = normalize.search_text(
            number=customer.number,
            name=customer.name,
            phone=customer.phone,
            email=customer.email,
            contacts=[],
        )
        # Profiles created before the review existed count as reviewed.
        customer.review_status = "approved"
        batch.append(customer)
        if len(batch) == 2000:
            Customer.objects.bulk_update(
                batch, ["name_key", "phone_key", "email_key", "search_text", "review_status"]
            )
            batch.clear()
    Customer.objects.bulk_update(
        batch, ["name_key", "phone_key", "email_key", "search_text", "review_status"]
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_profiles_contacts_tags_history")]

    operations = [migrations.RunPython(forwards, backwards)]
