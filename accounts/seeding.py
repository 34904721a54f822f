"""The demo-data registry behind ``manage.py seed_demo``.

``accounts`` creates the demo users and teams; every other app registers a seeder in its
``AppConfig.ready()`` that adds its own records, so the command never imports a higher app.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import Team, User


@dataclass
class SeedContext:
    users: dict[str, User]  # by username: admin, director, manager1, rep1, ...
    teams: dict[str, Team]
    rng: random.Random
    extra_customers: int = 0  # --customers N: a large data set on top of the demo records
    log: Callable[[str], None] = print
    sales_users: list[User] = field(default_factory=list)  # who may own customers


@dataclass(frozen=True)
class Seeder:
    name: str
    order: int
    run: Callable[[SeedContext], None]


_seeders: dict[str, Seeder] = {}


def register(name: str, run: Callable[[SeedContext], None], *, order: int) -> None:
    _seeders[name] = Seeder(name, order, run)


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda seeder: seeder.order)
