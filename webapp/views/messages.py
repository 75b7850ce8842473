"""Secure messages: the inbox of the acting option, a thread, a new message, a reply.

What a box holds follows the acting option: a member their own threads; a
deduction contact the threads of all their current employers; officers the
threads addressed to units of their subtree; the office every thread. A thread
outside that answers 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from webapp.extensions import db
from webapp.models import Employer, Member, MessageThread
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import scoped_get, scoped_row
from webapp.security.scope import get_scope
from webapp.services import messaging
from webapp.services.messaging import MessageError


def latest_threads(limit: int = 5):
    """For templates: the newest threads of the acting option (empty without one)."""
    scope = get_scope()
    if scope.active is None:
        return []
    return messaging.threads(messaging.thread_grants(scope), limit=limit)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class MessagesView(BaseView):
    route_base = "/messages"
    default_view = "index"

    def _scope(self) -> sc.Scope:
        scope = get_scope()
        if scope.active is None:
            abort(403)
        return scope

    def _thread(self, thread_id: int):
        return scoped_get(MessageThread, thread_id, grants=messaging.thread_grants(self._scope()))

    @expose("/")
    @has_access
    def index(self):
        scope = self._scope()
        return self.render_template("messages/index.html", threads=messaging.threads(messaging.thread_grants(scope)),
                                    as_party=messaging.writes_as_party(scope))

    @expose("/<int:thread_id>")
    @has_access
    def thread(self, thread_id: int):
        thread = self._thread(thread_id)
        as_party = messaging.writes_as_party(get_scope())
        messaging.mark_read(thread, as_party)
        return self.render_template("messages/thread.html", thread=thread, as_party=as_party,
                                    union_side=messaging.union_side_label(thread), party=messaging.party_label(thread))

    @expose("/<int:thread_id>/reply", methods=["POST"])
    @has_access
    def reply(self, thread_id: int):
        thread = self._thread(thread_id)
        try:
            messaging.reply(thread, request.form.get("body", ""), current_user.id,
                            messaging.writes_as_party(get_scope()))
        except MessageError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(_("Your message is sent."), "success")
        return redirect(url_for("MessagesView.thread", thread_id=thread_id))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        scope = self._scope()
        choices = self._recipients(scope)
        if request.method == "POST":
            try:
                target = self._target(scope, request.form)
                thread = messaging.start_thread(subject=request.form.get("subject", ""),
                                                body=request.form.get("body", ""),
                                                author_id=current_user.id, from_party=messaging.writes_as_party(scope),
                                                **target)
            except MessageError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                return self.render_template("messages/new.html", choices=choices, form=request.form), 422
            flash(_("Your message is sent."), "success")
            return redirect(url_for("MessagesView.thread", thread_id=thread.id))
        return self.render_template("messages/new.html", choices=choices, form={})

    @staticmethod
    def _recipients(scope: sc.Scope) -> dict:
        """What the new-message form offers the acting option."""
        active = scope.active
        if active.role == roles.MEMBER:
            return {"counterparts": messaging.member_counterparts(scoped_get(Member, active.target_id))}
        if active.role == roles.DEDUCTION_CONTACT:
            return {"employers": messaging.contact_employers(scope)}
        if active.kind in (sc.UNITS, sc.ALL):
            return {"member_search": True, "employer_search": active.kind == sc.ALL}
        abort(403)

    @staticmethod
    def _target(scope: sc.Scope, form) -> dict:
        """Party and union side of a new thread, checked against the acting option."""
        active = scope.active
        if active.role == roles.MEMBER:
            member = scoped_get(Member, active.target_id)
            to = form.get("to", "")
            if to == "office":
                return {"member_id": member.id, "org_unit_id": None}
            if _int(to) == member.home_unit_id:
                return {"member_id": member.id, "org_unit_id": member.home_unit_id}
            raise MessageError(_("To: choose the union office or your own organisational unit."))
        if active.role == roles.DEDUCTION_CONTACT:
            employer_id = _int(form.get("employer_id"))
            if employer_id not in {e.id for e in messaging.contact_employers(scope)}:
                raise MessageError(_("Employer: choose one of the employers you are deduction contact for."))
            return {"employer_id": employer_id, "org_unit_id": None}
        unit_id = active.target_id if active.kind == sc.UNITS else None
        member_id, employer_id = _int(form.get("member_id")), _int(form.get("employer_id"))
        if member_id and scoped_row(Member, member_id, scope.grants) is not None:
            return {"member_id": member_id, "org_unit_id": unit_id}
        if employer_id and active.kind == sc.ALL and scoped_row(Employer, employer_id, scope.grants) is not None:
            return {"employer_id": employer_id, "org_unit_id": None}
        raise MessageError(_("To: choose a member from the suggestions."))
