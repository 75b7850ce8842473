"""Extension objects. They are bound to an app in create_app, never at import."""

from flask_appbuilder.models.sqla.base import SQLA
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
mail = Mail()
migrate = Migrate()
csrf = CSRFProtect()
