"""The WSGI app for a production server: `gunicorn -c gunicorn.conf.py` serves `wsgi:app` (see README, Production).

The app is made by the factory with the settings class APP_CONFIG names (default config.Config), as run.py does;
unlike `python run.py` it neither upgrades the schema nor seeds demo data, nor runs a jobs worker
(`flask --app run worker` does, as a service of its own)."""

import os

from webapp import create_app

app = create_app(os.environ.get("APP_CONFIG", "config.Config"))
