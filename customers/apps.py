from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from accounts import seeding
        from customers.seeding import seed_customers

        seeding.register("customers", seed_customers, order=10)
