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


def resolve_database_url(url: str) -> str:
    """A relative SQLite path (`sqlite:///instance/medlem.db`) is taken relative to the project, not to the
    working directory, so the app, the CLI and a notebook (marimo, a script) open the same file wherever they start."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return url
    if os.path.isabs(path):
        return url
    return parsed.set(database=os.path.join(BASE_DIR, path)).render_as_string(hide_password=False)


class Config:
    APP_NAME = "Medlemsregister"
    # Unset: a random key is made on the first start and kept in instance/secret_key (webapp/security/secret_key.py).
    # A published or short value stops the app at start.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = resolve_database_url(os.environ.get("DATABASE_URL", _sqlite_default()))
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Reports, report jobs and notebooks read from this database when it is set: a read replica (streaming
    # replication) of DATABASE_URL, so that long reports do not load the primary. Unset: DATABASE_URL.
    REPORTS_DATABASE_URL = (
        resolve_database_url(os.environ["REPORTS_DATABASE_URL"]) if os.environ.get("REPORTS_DATABASE_URL") else None
    )

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
    AUTH_MAX_FAILED_LOGINS = int(os.environ.get("AUTH_MAX_FAILED_LOGINS", "5"))
    AUTH_LOCK_MINUTES = int(os.environ.get("AUTH_LOCK_MINUTES", "15"))
    # JWT login (/api/v1/security/login) is always there; FAB's user/role/permission REST APIs and
    # permission screens are not: roles live in code (webapp/security/roles.py).
    FAB_ADD_SECURITY_API = False
    FAB_ADD_SECURITY_PERMISSION_VIEW = False
    FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
    FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
    FAB_API_SWAGGER_UI = True  # also registers the OpenAPI spec at /api/v1/_openapi
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
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = timedelta(minutes=int(os.environ.get("SESSION_MINUTES", "30")))
    WTF_CSRF_ENABLED = True

    # Language: Norwegian Bokmål by default, English one switch away
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "webapp", "translations")
    LANGUAGES = {
        "nb": {"flag": "no", "name": "Norsk"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Production mode (APP_ENV=production; gunicorn.conf.py sets it): the app refuses to start with settings unfit
    # for production (webapp/production.py), and MAIL_SERVER has no default there.
    APP_ENV = os.environ.get("APP_ENV", "development")
    # Logs (webapp/logs.py): "json" (one object a line on stderr), "text", or "off" (the root logger left alone).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # /health answers 503 when more mails than this wait in the outbox (0: not checked).
    HEALTH_MAIL_QUEUE_MAX = int(os.environ.get("HEALTH_MAIL_QUEUE_MAX", "1000"))

    # Mail
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "" if APP_ENV == "production" else "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "medlem@forbundet.example")
    MAIL_SUPPRESS_SEND = _env_bool("MAIL_SUPPRESS_SEND", False)
    # Seconds to wait for the mail server before the mail waits in the outbox (the request goes on).
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    # Days the record of a sent e-mail (recipients, subject; the body goes when sent) is kept;
    # `privacy purge` deletes older.
    MAIL_OUTBOX_KEEP_DAYS = int(os.environ.get("MAIL_OUTBOX_KEEP_DAYS", "90"))

    # Privacy: members who left more than this many months ago are anonymised by `privacy purge`.
    PRIVACY_RETENTION_MONTHS = int(os.environ.get("PRIVACY_RETENTION_MONTHS", "60"))

    # Domain settings
    UNION_NAME = os.environ.get("UNION_NAME", "Norsk Tjenesteforbund")
    UNION_ACCOUNT_NUMBER = os.environ.get("UNION_ACCOUNT_NUMBER", "90010741504")
    PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:5000")

    # Direct billing (members who pay the union themselves). Billing periods: "quarter" or "month".
    DIRECT_BILLING_PERIOD = os.environ.get("DIRECT_BILLING_PERIOD", "quarter")
    AVTALEGIRO_BILLING_PERIOD = os.environ.get("AVTALEGIRO_BILLING_PERIOD", "month")
    # An invoice is due this many days after the later of its issue date and its period's first day.
    INVOICE_DUE_DAYS = int(os.environ.get("INVOICE_DUE_DAYS", "14"))
    # Days after the due date when the first and the second reminder go out (`invoices remind`).
    INVOICE_FIRST_REMINDER_DAYS = int(os.environ.get("INVOICE_FIRST_REMINDER_DAYS", "14"))
    INVOICE_SECOND_REMINDER_DAYS = int(os.environ.get("INVOICE_SECOND_REMINDER_DAYS", "28"))
    # Where `invoices send` writes the print-ready PDF of the invoices to members without e-mail.
    INVOICE_PRINT_DIR = os.environ.get("INVOICE_PRINT_DIR", os.path.join(INSTANCE_DIR, "invoices"))
    # AvtaleGiro: the day of the month a claim is due, and the union's identities at Nets.
    AVTALEGIRO_DUE_DAY = int(os.environ.get("AVTALEGIRO_DUE_DAY", "20"))
    NETS_DATA_TRANSMITTER = os.environ.get("NETS_DATA_TRANSMITTER", "00010200")
    NETS_DATA_RECIPIENT = os.environ.get("NETS_DATA_RECIPIENT", "00008080")
    AVTALEGIRO_AGREEMENT_ID = os.environ.get("AVTALEGIRO_AGREEMENT_ID", "000000000")
    # The union office's shared mailbox: told when a member or an employer writes to the office.
    OFFICE_EMAIL = os.environ.get("OFFICE_EMAIL", "post@forbundet.example")
    # The largest request body (uploads: deduction lists as CSV, scanned letters as PDF); larger ones answer 413.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024
    # The most rows a deduction list's CSV upload may have; a longer file is refused whole.
    DEDUCTION_UPLOAD_MAX_LINES = int(os.environ.get("DEDUCTION_UPLOAD_MAX_LINES", "20000"))
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo-Passord-2026!")

    # Membership reports: where `flask reports ...` writes its files, and who receives each report
    # (REPORT_RECIPIENTS_LO, REPORT_RECIPIENTS_SPEKTER, ..._NHO, ..._VIRKE, ..._KS, ..._STATEN; comma-separated).
    REPORTS_DIR = os.environ.get("REPORTS_DIR", os.path.join(INSTANCE_DIR, "reports"))
    REPORT_RECIPIENTS = {
        code: [a.strip() for a in os.environ.get(f"REPORT_RECIPIENTS_{code.upper()}", default).split(",") if a.strip()]
        for code, default in (
            ("lo", "medlemsstatistikk@lo.example,statistikk@lostat.example"),
            ("spekter", "medlemstall@spekter.example"),
            ("nho", "medlemstall@nho.example"),
            ("virke", "medlemstall@virke.example"),
            ("ks", "medlemstall@ks.example"),
            ("staten", "medlemstall@dfo.example"),
        )
    }

    # Member's own page
    # How text messages leave the system: an import path of a class with send(to, text).
    # The logging backend writes them to the log (development); production plugs in a gateway's client.
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "webapp.services.sms.LoggingSmsSender")
    SMS_SENDER_NAME = os.environ.get("SMS_SENDER_NAME", "Forbundet")
    # A recruitment earns RECRUITMENT_POINTS once the recruit has paid dues (an amount on a delivered
    # deduction list) in RECRUITMENT_PAID_MONTHS different months; students earn nothing unless allowed.
    RECRUITMENT_POINTS = int(os.environ.get("RECRUITMENT_POINTS", "100"))
    RECRUITMENT_PAID_MONTHS = int(os.environ.get("RECRUITMENT_PAID_MONTHS", "3"))
    RECRUITMENT_STUDENTS_EARN = _env_bool("RECRUITMENT_STUDENTS_EARN", False)

    # Online enrollment (/innmelding), public: sendings per address (POST only, when RATELIMIT_ENABLED); a form
    # sent sooner than MIN_FILL_SECONDS after it was opened (a robot) or older than MAX_FORM_AGE_HOURS is refused;
    # NOTIFY_EMAIL (optional) is told of each new application.
    ENROLLMENT_RATE_LIMIT = os.environ.get("ENROLLMENT_RATE_LIMIT", "5 per hour")
    ENROLLMENT_MIN_FILL_SECONDS = int(os.environ.get("ENROLLMENT_MIN_FILL_SECONDS", "5"))
    ENROLLMENT_MAX_FORM_AGE_HOURS = int(os.environ.get("ENROLLMENT_MAX_FORM_AGE_HOURS", "12"))
    ENROLLMENT_NOTIFY_EMAIL = os.environ.get("ENROLLMENT_NOTIFY_EMAIL") or None
    # A rejected application (name, national id, contact data) is deleted by the privacy purge this many months
    # after the office's decision; an approved one goes when its member is anonymised (PRIVACY_RETENTION_MONTHS).
    ENROLLMENT_REJECTED_KEEP_MONTHS = int(os.environ.get("ENROLLMENT_REJECTED_KEEP_MONTHS", "6"))
    # Special needs a member gave on a course application (diet, accessibility, ...) are deleted by the privacy
    # purge this many days after the course's last day.
    COURSE_SPECIAL_NEEDS_KEEP_DAYS = int(os.environ.get("COURSE_SPECIAL_NEEDS_KEEP_DAYS", "30"))
    # A ballot's frozen voter list (member number, name, e-mail, mobile) is deleted by the privacy purge this many
    # days after the ballot closed; the ballot itself (title, dates, the number of voters) stays.
    BALLOT_VOTERS_KEEP_DAYS = int(os.environ.get("BALLOT_VOTERS_KEEP_DAYS", "365"))

    # Background jobs (webapp/jobs.py): the Huey queue. sqlite:///<file> (a relative path is from the project
    # folder) for one machine, redis://<host>:<port>/<db> in production, memory:// for one process only.
    # The worker is `flask --app run worker`; `python run.py` runs one in its own process for the demo.
    HUEY_URL = os.environ.get("HUEY_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "huey.db"))
    # Run each job at once in the caller's thread (Huey's immediate mode, in-memory queue): tests.
    HUEY_IMMEDIATE = _env_bool("HUEY_IMMEDIATE", False)
    # Worker threads of `flask --app run worker` (and of run.py's in-process consumer).
    HUEY_WORKERS = int(os.environ.get("HUEY_WORKERS", "2"))
    # A worker writes a heartbeat every WORKER_HEARTBEAT_SECONDS; with none newer than WORKER_GONE_SECONDS the
    # worker counts as gone (/health answers 503) and the jobs it was running are marked interrupted.
    WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", "10"))
    WORKER_GONE_SECONDS = float(os.environ.get("WORKER_GONE_SECONDS", "120"))
    # Files jobs read (uploads) and made (reports, lists) are deleted by the privacy purge after this many days.
    JOB_FILE_KEEP_DAYS = int(os.environ.get("JOB_FILE_KEEP_DAYS", "7"))
    # Send-outs (webapp/services/sendouts.py): the job sends this many e-mails over one mail connection (or this
    # many SMS) and commits their status and its progress once per batch.
    SENDOUT_BATCH = int(os.environ.get("SENDOUT_BATCH", "500"))
    # The monthly deduction notices (webapp/services/notices.py) are recorded and sent this many employers at a
    # time, one commit per batch (a run stopped half-way and run again sends each notice once).
    NOTICE_BATCH = int(os.environ.get("NOTICE_BATCH", "50"))
    # The public unsubscribe page (/avmelding/<token>): uses of its POST per address (when AUTH_RATE_LIMITED).
    UNSUBSCRIBE_RATE_LIMIT = os.environ.get("UNSUBSCRIBE_RATE_LIMIT", "30 per hour")

    # The calendar (webapp/schedule.py, docs/operations.md): Huey periodic tasks of the worker, each recorded as a
    # job. Every entry can be turned off. Hours are the server's local time (run it with TZ=Europe/Oslo).
    # The 15th: next month's deduction basis and notices.
    CALENDAR_DEDUCTION_RUN = _env_bool("CALENDAR_DEDUCTION_RUN", True)
    # The 20th and the last day of the month: remind employers that have not delivered the month's list.
    CALENDAR_EMPLOYER_REMINDERS = _env_bool("CALENDAR_EMPLOYER_REMINDERS", True)
    # Working day CALENDAR_REFUND_WORKING_DAY (1-15) after a quarter: its refund draft, and a mail to the office.
    CALENDAR_REFUND_DRAFT = _env_bool("CALENDAR_REFUND_DRAFT", True)
    CALENDAR_REFUND_WORKING_DAY = int(os.environ.get("CALENDAR_REFUND_WORKING_DAY", "10"))
    # The hour (0-23) from which the monthly and quarterly entries run on their day.
    CALENDAR_HOUR = int(os.environ.get("CALENDAR_HOUR", "6"))
    # Nightly, from CALENDAR_NIGHTLY_HOUR: send the mail waiting in the outbox, the privacy purge (a dry run
    # reported to the office unless CALENDAR_PURGE_ENABLED) and a backup into BACKUP_DIR (the newest BACKUP_KEEP
    # backups are kept).
    CALENDAR_NIGHTLY_HOUR = int(os.environ.get("CALENDAR_NIGHTLY_HOUR", "2"))
    CALENDAR_MAIL_RETRY = _env_bool("CALENDAR_MAIL_RETRY", True)
    CALENDAR_PURGE = _env_bool("CALENDAR_PURGE", True)
    CALENDAR_PURGE_ENABLED = _env_bool("CALENDAR_PURGE_ENABLED", False)
    CALENDAR_BACKUP = _env_bool("CALENDAR_BACKUP", True)
    BACKUP_DIR = os.environ.get("BACKUP_DIR", os.path.join(INSTANCE_DIR, "backups"))
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))


class TestConfig(Config):
    TESTING = True
    APP_ENV = "test"
    LOG_FORMAT = "off"  # pytest's caplog and capture see the records; tests/test_logs.py checks the formats
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REPORTS_DATABASE_URL = None  # a test that wants a replica sets one
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    MAIL_SUPPRESS_SEND = True
    # Background jobs run synchronously when started (tests/test_jobs.py runs a real consumer on a SQLite queue).
    HUEY_IMMEDIATE = True
    # Refused outside tests (webapp/security/secret_key.py).
    SECRET_KEY = "test-only-key-published-in-config-py-never-deploy"
    # Passwords in tests are hashed cheaply: the production method (scrypt) costs 0.3 s a login, minutes over the
    # suite. The dummy hash that unknown usernames are checked against uses the same method, so their cost stays equal.
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    AUTH_DB_FAKE_PASSWORD_HASH_CHECK = "pbkdf2:sha256:1000$dummysalt$" + "0" * 64
