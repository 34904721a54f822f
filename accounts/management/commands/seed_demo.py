import random
import time

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from accounts.models import Team, User
from accounts.seeding import SeedContext, seeders

DEMO_PASSWORD = "demo12345"

TEAMS = {
    "华东销售一组": "manager1",
    "华南销售组": "manager2",
    "客户服务部": "svcmanager",
}

# username, display name, role, team, extra flags
USERS = [
    ("admin", "系统管理员", roles.ADMINISTRATOR, None, {"is_staff": True, "is_superuser": True}),
    ("director", "陈志远", roles.SALES_DIRECTOR, None, {}),
    ("manager1", "王建华", roles.SALES_MANAGER, "华东销售一组", {}),
    ("rep1", "李娜", roles.SALES_REP, "华东销售一组", {}),
    ("rep2", "张伟", roles.SALES_REP, "华东销售一组", {}),
    ("manager2", "刘洋", roles.SALES_MANAGER, "华南销售组", {}),
    ("rep3", "赵敏", roles.SALES_REP, "华南销售组", {}),
    ("svcmanager", "周静", roles.SERVICE_MANAGER, "客户服务部", {}),
    ("agent1", "孙丽", roles.SERVICE_AGENT, "客户服务部", {}),
    ("agent2", "吴涛", roles.SERVICE_AGENT, "客户服务部", {}),
]


class Command(BaseCommand):
    help = (
        "Creates demo teams, one account per role (password demo12345) and realistic demo records. "
        "Safe to run again: what exists is kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            metavar="N",
            help="Also generate N customers (and what later apps add per customer), with bulk inserts.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already has any user."
        )
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Allow the known-password demo accounts while DEBUG is off.",
        )
        parser.add_argument("--seed", type=int, default=20260301, help="Random seed, for repeatable data.")

    def handle(
        self, *args, customers: int, if_empty: bool, not_production: bool, seed: int, **options
    ) -> None:
        if not settings.DEBUG and not not_production:
            raise CommandError(
                "DEBUG is off: refusing to create accounts with the published password demo12345. "
                "Pass --i-know-this-is-not-production if this really is a demo or benchmark database."
            )
        if customers < 0:
            raise CommandError("--customers must be zero or more.")
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users; demo data not loaded.")
            return
        started = time.monotonic()
        with transaction.atomic():
            teams, users = self._accounts()
        context = SeedContext(
            users=users,
            teams=teams,
            rng=random.Random(seed),
            extra_customers=customers,
            log=lambda line: self.stdout.write(f"  {line}"),
            sales_users=[users[name] for name in ("manager1", "rep1", "rep2", "manager2", "rep3")],
        )
        for seeder in seeders():
            seeder.run(context)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {time.monotonic() - started:.1f} s. Password: {DEMO_PASSWORD}"
            )
        )

    def _accounts(self) -> tuple[dict[str, Team], dict[str, User]]:
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        users: dict[str, User] = {}
        for username, display_name, role, team_name, flags in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "display_name": display_name,
                    "email": f"{username}@demo.example.com",
                    "team": teams.get(team_name),
                    **flags,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.groups.add(Group.objects.get(name=role.group_name))
                self.stdout.write(f"  account {username} ({role.group_name})")
            users[username] = user
        for team_name, lead_name in TEAMS.items():
            team = teams[team_name]
            if lead_name and team.lead_id is None:
                team.lead = users[lead_name]
                team.save(update_fields=["lead"])
        return teams, users
