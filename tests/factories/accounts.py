import factory
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import Team, User

PASSWORD = "correct-horse-battery-9"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"销售{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(user: User, create: bool, role: roles.Role | None, **kwargs) -> None:
        """``UserFactory(role=roles.SALES_REP)`` puts the user in that role's group."""
        if create and role is not None:
            user.groups.add(Group.objects.get(name=role.group_name))
