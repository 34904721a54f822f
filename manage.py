#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    # manage.py is a developer's tool: development mode unless DEBUG is set explicitly. The web
    # (wsgi.py) and Celery processes keep the safe default, DEBUG off.
    os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
