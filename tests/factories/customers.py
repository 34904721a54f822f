import factory

from customers.models import Attachment, Contact, Customer, Industry, Segment, Source, Tag, TagDimension
from customers.services.profiles import refresh_keys
from tests.factories.accounts import UserFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer as the services would leave it: keys and search text computed."""

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
    review_status = Customer.ReviewStatus.APPROVED

    @factory.post_generation
    def collaborators(customer: Customer, create: bool, users, **kwargs) -> None:
        if create and users:
            customer.collaborators.set(users)

    @factory.post_generation
    def tags(customer: Customer, create: bool, tags, **kwargs) -> None:
        if create and tags:
            customer.tags.set(tags)

    @factory.post_generation
    def keys(customer: Customer, create: bool, extracted, **kwargs) -> None:
        if create:
            refresh_keys(customer)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name", locale="zh_CN")
    title = "采购经理"
    phone = factory.Faker("phone_number", locale="zh_CN")
    email = factory.Faker("email")

    @factory.post_generation
    def keys(contact: Contact, create: bool, extracted, **kwargs) -> None:
        """Keep the customer's search text in step, as the contact services do."""
        if create:
            from customers import normalize

            Contact.objects.filter(pk=contact.pk).update(
                phone_key=normalize.phone_key(contact.phone), email_key=normalize.email_key(contact.email)
            )
            refresh_keys(contact.customer)


class TagDimensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TagDimension
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"维度{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["dimension", "name"]

    dimension = factory.SubFactory(TagDimensionFactory)
    name = factory.Sequence(lambda n: f"标签{n}")


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    customer = factory.SubFactory(CustomerFactory)
    file = factory.django.FileField(filename="card.png", data=b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    original_name = "名片.png"
    content_type = "image/png"
    size = 72


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"客户分组{n}")
    query = "value_class=A"
    owner = factory.SubFactory(UserFactory)
