"""gunicorn's settings for production: `gunicorn -c gunicorn.conf.py` (README, Production).

Every value comes from the environment, with a default fit for one machine behind a reverse proxy:
BIND (127.0.0.1:8000), WEB_WORKERS (2 processes), WEB_THREADS (4 threads each), WEB_TIMEOUT (60 s).
A command-line flag still wins (`-w 4`); the app's checks then see that count.

Production mode (APP_ENV=production) is set here unless the environment says otherwise: before any worker
starts, `on_starting` stops the server with a clear message when the settings are unfit for production
(webapp/production.py: SQLite with more than one worker, no MAIL_SERVER, no SECRET_KEY), exit status 1.
gunicorn's own access log is off: the app writes one structured line per request (webapp/logs.py).
"""

import os
import sys

os.environ.setdefault("APP_ENV", "production")

wsgi_app = "wsgi:app"
chdir = os.path.dirname(os.path.abspath(__file__))  # the project folder, wherever gunicorn is started from
bind = os.environ.get("BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Long work runs as a background job; a request that takes longer than this is stopped (its worker restarted).
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter): memory a long-lived process gathers is given back.
max_requests = 2000
max_requests_jitter = 200
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT", "json").lower() == "json":
    # gunicorn's own lines (starting, booting a worker, a worker's timeout) as JSON lines too, on stderr; its
    # access log stays off, and the root logger gets the app's handler in each worker (webapp/logs.py).
    logconfig_dict = {
        "root": {"level": loglevel.upper(), "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["json_stderr"], "propagate": False,
                               "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False,
                                "qualname": "gunicorn.access"},
        },
        "handlers": {"json_stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                     "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": "webapp.logs.JsonFormatter"}},
    }
# X-Forwarded-Proto is trusted from these addresses (the reverse proxy on the same machine by default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "medlem"
# No gunicorn control socket (one per user's home by default: a second server on the machine would clash);
# systemd's signals (HUP to reload, TERM to stop) do the same.
control_socket_disable = True


def on_starting(server):
    """Refuse to start with settings unfit for production, naming each (before a worker is made)."""
    from werkzeug.utils import import_string

    from webapp import production

    # The app in each worker checks the worker count gunicorn really runs (a `-w` flag wins over WEB_WORKERS).
    os.environ["WEB_WORKERS"] = str(server.cfg.workers)
    config = import_string(os.environ.get("APP_CONFIG", "config.Config"))
    settings = {name: getattr(config, name) for name in dir(config) if name.isupper()}
    if not production.is_production(settings):
        return
    found = production.problems(settings, server.cfg.workers)
    if found:
        print(str(production.ProductionSettingsError(found)), file=sys.stderr, flush=True)
        sys.exit(1)
