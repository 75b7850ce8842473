"""The WSGI app for a production server: `gunicorn -c gunicorn.conf.py` serves `wsgi:app` (see README, Production).

The app is made by the factory with the settings class APP_CONFIG names (default config.Config), as run.py does;
unlike `python run.py` it neither upgrades the schema nor seeds demo data, nor runs a jobs worker
(`flask --app run worker` does, as a service of its own)."""

import os

from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import create_app

app = create_app(os.environ.get("APP_CONFIG", "config.Config"))
# Behind reverse proxies (PROXY_COUNT of them, e.g. 1 for nginx on the same machine), the client's address is
# taken from X-Forwarded-For as the nearest proxy gives it, so the rate limits count each user, not the proxy.
if (proxies := int(os.environ.get("PROXY_COUNT", "0"))) > 0:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
