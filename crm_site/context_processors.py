from django.conf import settings
from django.http import HttpRequest

import crm_site


def site(request: HttpRequest) -> dict[str, object]:
    return {"SITE_NAME": settings.SITE_NAME, "CRM_VERSION": crm_site.__version__}
