import factory

from customers.models import Customer, Industry, Source
from tests.factories.accounts import UserFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"C20260101{n:04d}")
    kind = Customer.Kind.ENTERPRISE
    name = factory.Faker("company", locale="zh_CN")
    phone = factory.Faker("phone_number", locale="zh_CN")
    industry = factory.LazyFunction(lambda: Industry.objects.order_by("order").first())
    source = factory.LazyFunction(lambda: Source.objects.order_by("order").first())
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda customer: customer.owner.team)

    @factory.post_generation
    def collaborators(customer: Customer, create: bool, users, **kwargs) -> None:
        if create and users:
            customer.collaborators.set(users)
