"""The one settings module. Everything that differs between a laptop and production comes from
environment variables, read through the strict helpers in ``crm_site.env`` and listed in the
README's configuration table.
"""

import base64
import hashlib
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from crm_site.env import env_bool, env_int, env_list, env_minutes, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state of the quick start (SQLite file, uploads, the local Celery queue) lives here.
VAR_DIR = Path(env_str("CRM_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "accounts",
    "customers",
    "interactions",
    "opportunities",
    "service",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm_site.middleware.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_site.urls"
WSGI_APPLICATION = "crm_site.wsgi.application"
ASGI_APPLICATION = "crm_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_site.context_processors.site",
                # The bell's unread count in the navbar (one query, only when the page shows it).
                "accounts.context_processors.notifications_bell",
            ],
        },
    },
]

# Database: PostgreSQL in production and in the test suite; a local SQLite file when
# DATABASE_URL is not set, so that the quick start needs nothing installed.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles the plans of large aggregations (the reports) for 0.5 s a
        # query, more than running them takes at a CRM's size; short OLTP queries never need it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # The web server, the worker and beat write to the same file: wait for the lock
            # instead of failing, and take it at the start of each transaction.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "crm",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Authentication
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out username/IP pair is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 60 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24, minimum=300)

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is locked out for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_minutes("LOGIN_LOCKOUT_MINUTES", 15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Reverse proxies put the client address here; only trust it when told to.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env_bool("TRUST_X_FORWARDED_FOR", False) else ["REMOTE_ADDR"]
)

# Internationalisation: Simplified Chinese first, English available; Asia/Shanghai by default.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "crm_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Static files are served by the app itself (WhiteNoise): no CDN, works on an intranet.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
# Without collectstatic (quick start, tests) WhiteNoise serves the source folders directly.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names need collectstatic; the quick start and the tests serve files as they are.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# E-mail: SMTP when EMAIL_HOST is set, otherwise printed to the console of the worker.
_email_host = env_str("EMAIL_HOST", "")
if _email_host:
    _mailer = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _email_host,
            "port": env_int("EMAIL_PORT", 587, minimum=1),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
            "timeout": 10,
        },
    }
else:
    _mailer = {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set; otherwise kombu's filesystem
# transport, a broker that needs no server, so reminders and reports work in the quick start.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "processed", "control"):
        (CELERY_QUEUE_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        # Broadcast (pidbox) messages; kombu's default is a "control" folder in the working directory.
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only when done, so a worker killed mid-task hands it to another one;
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(
    Path(env_str("CELERY_BEAT_SCHEDULE_FILE", str(VAR_DIR / "celerybeat-schedule")))
)
# Reminders of follow-up tasks (interactions.services.reminders): the team leads' daily digest of
# overdue tasks goes out at or after this hour of TIME_ZONE's day (caught up later that day).
REMINDER_DIGEST_HOUR = env_int("REMINDER_DIGEST_HOUR", 8, minimum=0)
if REMINDER_DIGEST_HOUR > 23:
    raise ImproperlyConfigured(f"REMINDER_DIGEST_HOUR={REMINDER_DIGEST_HOUR} must be an hour, 0 to 23.")
# Care tasks (interactions.services.care): birthday care tasks are created this many days before
# the birthday (and up to the day itself, so a late sweep catches up).
CARE_BIRTHDAY_DAYS_BEFORE = env_int("CARE_BIRTHDAY_DAYS_BEFORE", 3, minimum=0)
# Stale-deal alerts (opportunities.services.alerts): the owner is told as soon as an opportunity is
# over its stage's expected days or its next step's date has passed; the team lead too once it is
# this many days beyond that.
DEAL_ALERT_LEAD_AFTER_DAYS = env_int("DEAL_ALERT_LEAD_AFTER_DAYS", 7, minimum=0)
# Overdue-payment warnings (回款预警): the order's owner from the first day an instalment is
# overdue, the team lead too once it is this many days overdue.
PAYMENT_WARNING_LEAD_AFTER_DAYS = env_int("PAYMENT_WARNING_LEAD_AFTER_DAYS", 3, minimum=0)
# Service levels (service.services.alerts): the assignee of a ticket is warned this many minutes
# before its first response or resolution is due (0: no warning); a miss is escalated at once.
SLA_WARNING_MINUTES = env_int("SLA_WARNING_MINUTES", 60, minimum=0)
# Satisfaction surveys (service.services.surveys): a link works this many days after it is sent; a
# score at or below SURVEY_LOW_SCORE opens an improvement task for the service manager; the public
# page answers SURVEY_RATE_LIMIT requests per address every SURVEY_RATE_WINDOW_MINUTES (then 429).
SURVEY_EXPIRY_DAYS = env_int("SURVEY_EXPIRY_DAYS", 14, minimum=1)
SURVEY_LOW_SCORE = env_int("SURVEY_LOW_SCORE", 2, minimum=0)
if SURVEY_LOW_SCORE > 4:
    raise ImproperlyConfigured(f"SURVEY_LOW_SCORE={SURVEY_LOW_SCORE} must be below 5 (scores are 1 to 5).")
SURVEY_RATE_LIMIT = env_int("SURVEY_RATE_LIMIT", 20, minimum=1)
SURVEY_RATE_WINDOW_MINUTES = env_int("SURVEY_RATE_WINDOW_MINUTES", 10, minimum=1)
# /healthz reports the worker as down when its last heartbeat is older than this.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 180, minimum=30)

# Forms
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security. Production (DEBUG off) is strict by default; each switch can be relaxed by env for a
# deployment behind a TLS-terminating proxy or for a local docker compose trial.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# No inline scripts anywhere: every script is a static file of our own origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# The address users reach the CRM at, e.g. https://crm.example.com: links in e-mails are built on
# it (empty: e-mails carry paths only, fine for the quick start).
SITE_URL = env_str("SITE_URL", "").rstrip("/")

# The product name in the header and in e-mails; empty means the translated default "客户关系管理".
SITE_NAME = env_str("SITE_NAME", "")
# The printed quote's letterhead (报价单抬头): the company's name, address and contact details, its
# taxpayer ID (纳税人识别号) and bank account (开户行及账号). Empty values are left out; an empty name
# falls back to SITE_NAME.
COMPANY_NAME = env_str("COMPANY_NAME", "")
COMPANY_ADDRESS = env_str("COMPANY_ADDRESS", "")
COMPANY_PHONE = env_str("COMPANY_PHONE", "")
COMPANY_EMAIL = env_str("COMPANY_EMAIL", "")
COMPANY_WEBSITE = env_str("COMPANY_WEBSITE", "")
COMPANY_TAX_ID = env_str("COMPANY_TAX_ID", "")
COMPANY_BANK_ACCOUNT = env_str("COMPANY_BANK_ACCOUNT", "")

# Customer value classes (SPEC 2): expected annual contract value in CNY at which A and B start.
CUSTOMER_CLASS_A_MIN = Decimal(env_int("CUSTOMER_CLASS_A_MIN", 500_000, minimum=1))
CUSTOMER_CLASS_B_MIN = Decimal(env_int("CUSTOMER_CLASS_B_MIN", 100_000, minimum=1))
if CUSTOMER_CLASS_B_MIN >= CUSTOMER_CLASS_A_MIN:
    raise ImproperlyConfigured("CUSTOMER_CLASS_B_MIN must be below CUSTOMER_CLASS_A_MIN.")
# Profile review (建档审核): a profile still incomplete this long after creation is flagged to the lead.
CUSTOMER_REVIEW_HOURS = env_int("CUSTOMER_REVIEW_HOURS", 24, minimum=1)

# Encryption of personal data at rest (accounts.crypto): comma-separated Fernet keys, newest first.
# In development a key derived from SECRET_KEY is used so the quick start needs no setup.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(("field-encryption:" + SECRET_KEY).encode()).digest()
        ).decode()
    ]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        _valid_key = len(base64.urlsafe_b64decode(_key.encode())) == 32
    except ValueError:
        _valid_key = False
    if not _valid_key:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold url-safe base64 keys of 32 bytes; make one with "
            '`python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`.'
        )

# Uploads: attachments and import files, checked by content (customers.uploads).
ATTACHMENT_MAX_MB = env_int("ATTACHMENT_MAX_MB", 10, minimum=1)
IMPORT_MAX_MB = env_int("IMPORT_MAX_MB", 20, minimum=1)
# Exported files (customer data) are deleted this many days after they were made.
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000  # bulk actions post one field per selected customer
