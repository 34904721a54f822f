from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0005_sales_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instalment",
            index=models.Index(
                condition=models.Q(("settled_at__isnull", True)),
                fields=["order", "due_date"],
                name="instalment_unsettled_order",
            ),
        ),
    ]
