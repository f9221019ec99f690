"""Django settings for Traveler. Everything an administrator sets comes from the environment.

See README.md "Configuration" for the variables.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from traveler.server.manifest import load_manifest

BASE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("TRAVELER_DEBUG", False)
# The key that signs sessions, CSRF tokens and password links. Only development (TRAVELER_DEBUG) and
# the test suite may run without one; ./dev generates one into .traveler/secret_key for the demo.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("TRAVELER_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or "pytest" in sys.modules):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "TRAVELER_SECRET_KEY is not set. Set it to a long random value kept secret, for example the "
            "output of: python -c \"import secrets; print(secrets.token_urlsafe(50))\" (see README, Configuration)."
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    os.environ.setdefault("TRAVELER_SECRET_KEY", SECRET_KEY)  # what the tests start in subprocesses inherits it
ALLOWED_HOSTS = [h for h in os.environ.get("TRAVELER_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(",") if h]

MANIFEST = load_manifest()
MANIFEST.check_available()
DEPLOYMENT_TYPE = MANIFEST.deployment
MULTI_TENANT = DEPLOYMENT_TYPE == "saas"

INSTALLED_APPS = [
    "django.contrib.auth",  # the auth middleware and password validators need it
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    *MANIFEST.app_paths,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "traveler.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "traveler.core.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "traveler.core.middleware.TenantMiddleware",
]

ROOT_URLCONF = "traveler.server.urls"
ASGI_APPLICATION = "traveler.server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "traveler.core.ui.context.shell",
            ],
        },
    }
]


def database_settings() -> dict:
    """The app connects as a role that is neither superuser nor table owner; migrations as the owner.

    ``TRAVELER_DB_AS_OWNER=1`` (set by ``./dev`` for migrate and by the test set-up) switches to
    the owner role. ``TRAVELER_DB_CONTEXT_KEY`` signs the tenant context (docs/architecture.md,
    "The database wall"); the embedded server keeps generated passwords and key in ``.traveler/``.
    """
    as_owner = env_bool("TRAVELER_DB_AS_OWNER")
    url = os.environ.get("DATABASE_URL")
    if url:
        u = urlparse(url)
        q = parse_qs(u.query)
        owner, owner_pw = unquote(u.username or ""), unquote(u.password or "")
        app_user = os.environ.get("DATABASE_APP_USER", "traveler_app")
        app_pw = os.environ.get("DATABASE_APP_PASSWORD", "")
        host = u.hostname or (q.get("host") or [""])[0]
        port = u.port or (q.get("port") or [""])[0]
        name = os.environ.get("TRAVELER_DB_NAME") or u.path.lstrip("/")
        context_key = os.environ.get("TRAVELER_DB_CONTEXT_KEY", "")
    else:
        from traveler.server.embedded_db import connection_info, secrets

        info, secret = connection_info(), secrets()
        owner, owner_pw, app_user, app_pw = info["owner"], secret["owner"], info["app"], secret["app"]
        context_key = os.environ.get("TRAVELER_DB_CONTEXT_KEY") or secret["context_key"]
        host, port, name = info["host"], info["port"], os.environ.get("TRAVELER_DB_NAME") or info["name"]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": owner if as_owner else app_user,
        "PASSWORD": owner_pw if as_owner else app_pw,
        "HOST": host,
        "PORT": str(port or ""),
        "CONN_MAX_AGE": int(os.environ.get("TRAVELER_DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {},
        "TEST": {"NAME": os.environ.get("TRAVELER_TEST_DB_NAME", f"test_{name}")},
        "TRAVELER_OWNER": owner,
        "TRAVELER_OWNER_PASSWORD": owner_pw,
        "TRAVELER_APP_USER": app_user,
        "TRAVELER_APP_PASSWORD": app_pw,
        "TRAVELER_CONTEXT_KEY": context_key,
    }


DATABASES = {"default": database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["traveler.core.auth.EmailBackend"]
LOGIN_URL = "/signin/"
LOGIN_REDIRECT_URL = "/"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (see docs/administration.md): within the window, this many failures for one
# email stop everyone but the account's known clients; this many from one address stop that address.
TRAVELER_LOGIN_MAX_FAILURES = int(os.environ.get("TRAVELER_LOGIN_MAX_FAILURES", "5"))
TRAVELER_LOGIN_MAX_CLIENT_FAILURES = int(os.environ.get("TRAVELER_LOGIN_MAX_CLIENT_FAILURES", "20"))
TRAVELER_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("TRAVELER_LOGIN_LOCKOUT_SECONDS", "900"))
TRAVELER_LOGIN_KNOWN_CLIENT_DAYS = int(os.environ.get("TRAVELER_LOGIN_KNOWN_CLIENT_DAYS", "30"))
# Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); none by default.
TRAVELER_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRAVELER_TRUSTED_PROXIES", "").split(",") if p.strip()]
TRAVELER_API_TOKEN_DAYS = int(os.environ.get("TRAVELER_API_TOKEN_DAYS", "90"))
TRAVELER_API_TOKEN_MAX_PER_USER = int(os.environ.get("TRAVELER_API_TOKEN_MAX_PER_USER", "20"))
TRAVELER_PASSWORD_RESET_HOURS = int(os.environ.get("TRAVELER_PASSWORD_RESET_HOURS", "24"))
TRAVELER_INVITATION_HOURS = int(os.environ.get("TRAVELER_INVITATION_HOURS", "168"))
# How e-mailed links start (password links, invitations).
TRAVELER_BASE_URL = os.environ.get("TRAVELER_BASE_URL", "http://localhost:8000")

# E-mail: printed to the console unless an SMTP host is configured.
EMAIL_HOST = os.environ.get("TRAVELER_EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("TRAVELER_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = int(os.environ.get("TRAVELER_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("TRAVELER_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TRAVELER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TRAVELER_EMAIL_TLS", True)
EMAIL_FILE_PATH = os.environ.get("TRAVELER_EMAIL_FILE_PATH", str(BASE_DIR / ".traveler" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("TRAVELER_EMAIL_FROM", "Traveler <traveler@localhost>")

# HTTPS: TRAVELER_HTTPS=1 when users reach the app over HTTPS (directly or through a proxy that sets
# X-Forwarded-Proto and is listed in TRAVELER_TRUSTED_PROXIES): secure cookies, HSTS, redirects.
TRAVELER_HTTPS = env_bool("TRAVELER_HTTPS", env_bool("TRAVELER_SECURE_COOKIES", False))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = TRAVELER_HTTPS
CSRF_COOKIE_SECURE = TRAVELER_HTTPS
SESSION_COOKIE_AGE = 12 * 3600
SECURE_HSTS_SECONDS = int(os.environ.get("TRAVELER_HSTS_SECONDS", "31536000")) if TRAVELER_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TRAVELER_HSTS_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = TRAVELER_HTTPS and env_bool("TRAVELER_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
if TRAVELER_HTTPS and TRAVELER_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served from the apps' folders (WHITENOISE_USE_FINDERS): no collectstatic step, so
# WhiteNoise's notices about the absent STATIC_ROOT and about serving files under ASGI are noise.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploaded files (document revisions) go through Django's storage API, under their SHA-256.
# TRAVELER_FILE_STORAGE=local (default): a folder, TRAVELER_FILES_DIR (default .traveler/files).
# TRAVELER_FILE_STORAGE=s3: an S3-compatible bucket through django-storages (pip install -r
# requirements/s3.txt), configured by the TRAVELER_S3_* variables below. See docs/documents.md.
TRAVELER_FILES_DIR = os.environ.get("TRAVELER_FILES_DIR", str(BASE_DIR / ".traveler" / "files"))
TRAVELER_FILE_STORAGE = os.environ.get("TRAVELER_FILE_STORAGE", "local")
if TRAVELER_FILE_STORAGE == "s3":
    _documents_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ.get("TRAVELER_S3_BUCKET", ""),
        "endpoint_url": os.environ.get("TRAVELER_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("TRAVELER_S3_REGION") or None,
        "access_key": os.environ.get("TRAVELER_S3_ACCESS_KEY") or None,
        "secret_key": os.environ.get("TRAVELER_S3_SECRET_KEY") or None,
        "location": os.environ.get("TRAVELER_S3_PREFIX", ""),
        "default_acl": None, "querystring_auth": True, "file_overwrite": True,
    }}
elif TRAVELER_FILE_STORAGE == "local":
    _documents_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                          "OPTIONS": {"location": TRAVELER_FILES_DIR, "directory_permissions_mode": 0o750,
                                      "file_permissions_mode": 0o640}}
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"TRAVELER_FILE_STORAGE must be 'local' or 's3', not {TRAVELER_FILE_STORAGE!r}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": TRAVELER_FILES_DIR}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": _documents_storage,
}
# The largest file one upload may carry, and the media types (detected from the content) accepted.
TRAVELER_UPLOAD_MAX_BYTES = int(os.environ.get("TRAVELER_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
TRAVELER_UPLOAD_MEDIA_TYPES = [t.strip() for t in os.environ.get(
    "TRAVELER_UPLOAD_MEDIA_TYPES",
    "application/pdf,image/png,image/jpeg,image/tiff,image/vnd.dxf,model/step,model/gltf-binary,model/gltf+json,"
    "model/stl,text/plain").split(",") if t.strip()]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "traveler.core.api.auth.TokenAuthentication",
        "traveler.core.api.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["traveler.core.api.permissions.TenantMember"],
    "DEFAULT_PAGINATION_CLASS": "traveler.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "traveler.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "traveler.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Traveler API",
    "DESCRIPTION": "Manufacturing execution and quality management. Authenticate with a Bearer token "
    "from POST /api/v1/auth/token/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

TRAVELER_JOB_POLL_SECONDS = float(os.environ.get("TRAVELER_JOB_POLL_SECONDS", "2"))
# A running job is leased to its worker, which renews the lease every third of it; a job whose lease
# expired (its worker died) runs again.
TRAVELER_JOB_LEASE_SECONDS = float(os.environ.get("TRAVELER_JOB_LEASE_SECONDS", "60"))
# How long succeeded jobs and delivered events are kept before the hourly purge removes them.
TRAVELER_JOB_RETENTION_DAYS = float(os.environ.get("TRAVELER_JOB_RETENTION_DAYS", "14"))
TRAVELER_EVENT_RETENTION_DAYS = float(os.environ.get("TRAVELER_EVENT_RETENTION_DAYS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TRAVELER_LOG_LEVEL", "WARNING")},
}
