"""Gettext catalogs (<locale>/LC_MESSAGES/messages.po and the compiled .mo), loaded by Flask-Babel
from this directory (BABEL_TRANSLATION_DIRECTORIES). `python -m webapp.translations.update` keeps them
in step with the code; see update.py."""
