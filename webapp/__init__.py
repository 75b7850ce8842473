"""The app factory. Nothing global is created at import: each app gets its own AppBuilder."""

from __future__ import annotations

import os

from flask import Flask
from flask_appbuilder import AppBuilder

from webapp.extensions import csrf, db, mail, migrate
from webapp.security.roles import ROLE_GRANTS

DEFAULT_INSTANCE_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance")


def create_app(config: object | str = "config.Config", instance_path: str | None = None, **overrides) -> Flask:
    app = Flask(__name__, instance_path=instance_path or DEFAULT_INSTANCE_PATH)
    app.config.from_object(config)
    app.config.update(overrides)
    app.config["FAB_ROLES"] = ROLE_GRANTS
    app.config.setdefault("FAB_BASE_TEMPLATE", "union_base.html")
    os.makedirs(app.instance_path, exist_ok=True)
    from webapp import logs, production

    logs.configure(app)
    production.check(app)  # in production mode (APP_ENV): refuse unfit settings, before a key file is made
    from webapp.security.secret_key import configure_secret_key

    configure_secret_key(app)  # before anything signs a cookie or a token

    from webapp.services.database import guard_sqlite_transactions

    guard_sqlite_transactions()
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    mail.init_app(app)
    csrf.init_app(app)
    from webapp.jobs import init_jobs

    init_jobs(app)

    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        from webapp.views import register_views

        register_views(appbuilder)

    from webapp.security import init_security
    from webapp.security.roles import role_label

    init_security(app)
    from webapp.security.redirects import init_redirects
    from webapp.security.sessions import init_sessions

    init_redirects(app)
    init_sessions(app)
    from webapp.views.errors import register_error_pages
    from webapp.views.request_guard import register_request_guard

    register_error_pages(app)
    from webapp.views.flash_guard import register_flash_guard

    register_flash_guard(app)
    register_request_guard(app)
    app.jinja_env.globals["role_label"] = role_label
    register_template_helpers(app)

    from reports.pdf import blueprint as reports_blueprint
    from webapp.views.health import blueprint as health_blueprint

    app.register_blueprint(reports_blueprint)
    app.register_blueprint(health_blueprint)

    from webapp.cli import register_cli

    register_cli(app)
    return app


def register_template_helpers(app: Flask) -> None:
    """Amounts and masked national ids read the same on every page and in every PDF: templates call these
    helpers, registered here once rather than passed to each render."""
    from webapp.security.privacy import mask_national_id
    from webapp.services.money import decimal_text, kroner
    from webapp.services.periods import period_label

    app.jinja_env.globals.update(kroner=kroner, mask=mask_national_id, number=decimal_text, period=period_label)
