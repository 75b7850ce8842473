"""Settings classes. Every value can be overridden from the environment."""

import os
from datetime import timedelta

from flask_appbuilder.security.manager import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.path.join(BASE_DIR, "instance")


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _sqlite_default() -> str:
    return "sqlite:///" + os.path.join(INSTANCE_DIR, "medlem.db")


class Config:
    APP_NAME = "Medlemsregister"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", _sqlite_default())
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Flask-AppBuilder
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "office"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per 20 second")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = "memory://"
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_ADD_SECURITY_API = True
    FAB_API_SWAGGER_UI = True
    FAB_UPDATE_PERMS = False  # roles live in code (webapp.security.roles)
    FAB_CREATE_DB = False  # the schema comes from Alembic migrations only
    FAB_SECURITY_MANAGER_CLASS = "webapp.security.manager.UnionSecurityManager"
    FAB_INDEX_VIEW = "webapp.views.pages.HomeView"
    FAB_SAFE_REDIRECT_HOSTS = [
        h.strip() for h in os.environ.get("SAFE_REDIRECT_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
    ]
    FAB_API_MAX_PAGE_SIZE = 100

    # Sessions and cookies
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("SESSION_MINUTES", "30")))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_ENABLED = True

    # Language: Norwegian Bokmål by default, English one switch away
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "webapp", "translations")
    LANGUAGES = {
        "nb": {"flag": "no", "name": "Norsk"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Mail
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "medlem@forbundet.example")
    MAIL_SUPPRESS_SEND = _env_bool("MAIL_SUPPRESS_SEND", False)

    # Domain settings
    UNION_NAME = os.environ.get("UNION_NAME", "Norsk Tjenesteforbund")
    UNION_ACCOUNT_NUMBER = os.environ.get("UNION_ACCOUNT_NUMBER", "90010741504")
    PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:5000")
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo-Passord-2026!")


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    MAIL_SUPPRESS_SEND = True
    SECRET_KEY = "test-secret"
