"""Membership → Send-outs and Segments (the office; a unit's leader for the members of their units), and the
public page of the unsubscribe link in every e-mail (no login).

An officer's scope is the acting unit and the units below it: every count, preview and recipient list ANDs it
in SQL (webapp/services/segments.py), a unit outside it typed into the form is refused naming the field, and
the send-outs and segments of other units answer 404 (row rules below). Sending starts a background job and
the browser goes to the job's page: the request never waits for the mail.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from webapp import jobs
from webapp.extensions import db
from webapp.models import Employer, Member, OrgUnit, Workplace
from webapp.models.choices import MemberCategory, RecipientStatus, SendOutChannel, SendOutStatus
from webapp.models.outreach import CollectiveAgreement, Segment, SendOut, SendOutRecipient
from webapp.security import scope as sc
from webapp.security.rowfilters import register_rule, row_for_view, scoped_row, visible_clause
from webapp.services import segments, sendouts
from webapp.services.bounds import row_id
from webapp.services.sendouts import SendOutError
from webapp.services.validation import RecordInvalid
from webapp.views.accounts import post_limits
from webapp.views.jobs import to_job_page

# An officer's send-outs and segments belong to the unit they were made for (and are seen from the units above).
register_rule(SendOut, {sc.UNITS: lambda ids: SendOut.unit_id.in_(ids)})
register_rule(Segment, {sc.UNITS: lambda ids: Segment.unit_id.in_(ids)})

SHOWN = 200
FAILED_SHOWN = 50
MESSAGE_FIELDS = ("channel", "subject", "body", "survey_url")


class SendScope:
    """Who sends: the office (every member) or an officer acting for a unit (that unit and the units below)."""

    def __init__(self, view_name: str):
        scope = sc.get_scope()
        grants = scope.grants_for_view(view_name)
        self.grants = grants
        if any(grant.kind == sc.ALL for grant in grants):
            self.unit_ids, self.unit_id = None, None
            return
        active = scope.active
        if active is None or active.kind != sc.UNITS or not grants:
            abort(403)  # an officer of a region acts for workplaces, not units: no send-outs
        self.unit_id = active.target_id
        self.unit_ids = frozenset().union(*(grant.ids for grant in grants if grant.kind == sc.UNITS))


def criteria_form(criteria: dict) -> MultiDict:
    """The criteria as the form's fields (to fill the form from a saved segment or a draft)."""
    form = MultiDict()
    for name, value in criteria.items():
        if name == "categories":
            for category in value:
                form.add("categories", category)
        elif name == "unit_below":
            form.add(name, "1" if value else "")
        else:
            form.add(name, str(value))
    if "unit_id" in criteria and "unit_below" not in criteria:
        form.add("unit_below", "1")
    return form


def form_options(form, send_scope: SendScope) -> dict:
    """The choices of the criteria form; the chosen unit, employer and workplace by name (type-ahead boxes)."""
    chosen = {}
    for name, model in (("unit_id", OrgUnit), ("employer_id", Employer), ("workplace_id", Workplace)):
        pk = row_id(form.get(name, ""))
        row = db.session.get(model, pk) if pk else None
        chosen[name] = (row.id, str(row)) if row is not None else None
    places = select(Workplace.county).where(Workplace.county.is_not(None)).distinct().order_by(Workplace.county)
    municipalities = (select(Workplace.municipality).where(Workplace.municipality.is_not(None)).distinct()
                      .order_by(Workplace.municipality))
    return {
        "statuses": [(segments.ACTIVE, _("Active members")), (segments.FORMER, _("Former members"))],
        "categories": MemberCategory.choices(),
        "agreements": db.session.scalars(select(CollectiveAgreement).order_by(CollectiveAgreement.name)).all(),
        "counties": db.session.scalars(places).all(),
        "municipalities": db.session.scalars(municipalities).all(),
        "channels": SendOutChannel.choices(),
        "chosen": chosen,
        "officer_unit": db.session.get(OrgUnit, send_scope.unit_id) if send_scope.unit_id else None,
    }


def _channel(form) -> SendOutChannel:
    return SendOutChannel.__members__.get(form.get("channel") or "", SendOutChannel.email)


def _count(criteria: dict, form, send_scope: SendScope) -> segments.SegmentCount:
    return segments.count(criteria, _channel(form), send_scope.unit_ids, survey=bool(form.get("survey_url")))


def visible_segments(send_scope: SendScope):
    return db.session.scalars(select(Segment).where(visible_clause(Segment, send_scope.grants))
                              .options(selectinload(Segment.unit), selectinload(Segment.created_by))
                              .order_by(Segment.name)).all()


class SegmentView(BaseView):
    """Saved segments: build one with its count, save it under a name, use it for a send-out, delete it."""

    route_base = "/segments"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        send_scope = SendScope(self.class_permission_name)
        rows = [(segment, segments.describe(segments.from_json(segment.criteria)))
                for segment in visible_segments(send_scope)]
        return self.render_template("sendouts/segments.html", rows=rows)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        send_scope = SendScope(self.class_permission_name)
        form = request.form if request.method == "POST" else MultiDict({"channel": "email", "unit_below": "1"})
        errors, counted = {}, None
        if request.method == "POST":
            try:
                criteria = segments.validate(segments.criteria_from_form(form), send_scope.unit_ids)
                counted = _count(criteria, form, send_scope)
                if form.get("action") == "save":
                    segment = sendouts.save_segment(form.get("segment_name"), criteria, send_scope.unit_id,
                                                    current_user.id)
                    db.session.commit()
                    flash(_("The segment %(name)s is saved.", name=segment.name), "success")
                    return redirect(url_for("SegmentView.index"))
            except RecordInvalid as exc:
                db.session.rollback()
                errors, counted = exc.errors, None
            except SendOutError as exc:
                db.session.rollback()
                errors = {exc.field or "segment_name": [exc.message]}
        return self.render_template("sendouts/segment_form.html", form=form, errors=errors, counted=counted,
                                    options=form_options(form, send_scope)), (422 if errors else 200)

    @expose("/<int:segment_id>/delete", methods=["POST"])
    @has_access
    def delete(self, segment_id: int):
        send_scope = SendScope(self.class_permission_name)
        segment = scoped_row(Segment, segment_id, send_scope.grants)
        if segment is None:
            abort(404)
        db.session.execute(update(SendOut).where(SendOut.segment_id == segment.id).values(segment_id=None))
        db.session.delete(segment)
        db.session.commit()
        flash(_("The segment is deleted."), "success")
        return redirect(url_for("SegmentView.index"))


class SendOutView(BaseView):
    """Send-outs: the list with status and progress; the form (segment, count, message); the preview of a
    draft; sending as a background job."""

    route_base = "/sendouts"
    default_view = "index"

    def _scoped(self, send_scope: SendScope, send_out_id: int) -> SendOut:
        send_out = scoped_row(SendOut, send_out_id, send_scope.grants)
        if send_out is None:
            abort(404)
        return send_out

    @expose("/")
    @has_access
    def index(self):
        send_scope = SendScope(self.class_permission_name)
        rows = db.session.scalars(select(SendOut).where(visible_clause(SendOut, send_scope.grants))
                                  .options(selectinload(SendOut.job))
                                  .order_by(SendOut.created_at.desc(), SendOut.id.desc()).limit(SHOWN)).all()
        tallies = _tallies([row.id for row in rows])
        return self.render_template("sendouts/index.html", rows=rows, tallies=tallies, percent=jobs.percent,
                                    title_of=sendouts.title_of)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        send_scope = SendScope(self.class_permission_name)
        if request.method == "POST":
            return self._post_form(send_scope, None)
        form = MultiDict({"channel": "email", "unit_below": "1"})
        segment_id = row_id(request.args.get("segment", "")) if request.args.get("segment") else None
        if segment_id:
            segment = scoped_row(Segment, segment_id, send_scope.grants)
            if segment is None:
                abort(404)
            form = criteria_form(segments.from_json(segment.criteria))
            form.update({"channel": "email", "segment_id": str(segment.id)})
        return self._form_page(form, {}, None, send_scope, None)

    @expose("/<int:send_out_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, send_out_id: int):
        send_scope = SendScope(self.class_permission_name)
        send_out = self._scoped(send_scope, send_out_id)
        if send_out.status != SendOutStatus.draft:
            return redirect(url_for("SendOutView.show", send_out_id=send_out.id))
        if request.method == "POST":
            return self._post_form(send_scope, send_out)
        form = criteria_form(segments.from_json(send_out.criteria))
        form.update({"channel": send_out.channel.name, "subject": send_out.subject or "", "body": send_out.body,
                     "survey_url": send_out.survey_url or "", "segment_id": str(send_out.segment_id or "")})
        return self._form_page(form, {}, None, send_scope, send_out)

    def _form_page(self, form, errors, counted, send_scope: SendScope, send_out: SendOut | None):
        return self.render_template("sendouts/form.html", form=form, errors=errors, counted=counted,
                                    options=form_options(form, send_scope), send_out=send_out,
                                    saved=visible_segments(send_scope)), (422 if errors else 200)

    def _post_form(self, send_scope: SendScope, send_out: SendOut | None):
        """"Count" shows the count; "Save segment" saves the criteria; "Preview" saves the draft and shows it."""
        form, action = request.form, request.form.get("action", "count")
        counted = None
        try:
            criteria = segments.validate(segments.criteria_from_form(form), send_scope.unit_ids)
            counted = _count(criteria, form, send_scope)
            if action == "save_segment":
                segment = sendouts.save_segment(form.get("segment_name"), criteria, send_scope.unit_id,
                                                current_user.id)
                db.session.commit()
                flash(_("The segment %(name)s is saved.", name=segment.name), "success")
            elif action == "preview":
                draft = self._save_draft(send_scope, send_out, criteria, form)
                db.session.commit()
                return redirect(url_for("SendOutView.show", send_out_id=draft.id))
        except RecordInvalid as exc:
            db.session.rollback()
            return self._form_page(form, exc.errors, None, send_scope, send_out)
        except SendOutError as exc:
            db.session.rollback()
            return self._form_page(form, {exc.field or "send_out": [exc.message]}, counted, send_scope, send_out)
        return self._form_page(form, {}, counted, send_scope, send_out)

    @staticmethod
    def _save_draft(send_scope: SendScope, send_out: SendOut | None, criteria: dict, form) -> SendOut:
        message = sendouts.message_from_form(form)
        segment_id = row_id(form.get("segment_id", "")) if form.get("segment_id") else None
        if segment_id and scoped_row(Segment, segment_id, send_scope.grants) is None:
            segment_id = None
        return sendouts.save_draft(send_out.id if send_out else None, criteria, message, segment_id,
                                   send_scope.unit_id, current_user.id)

    @expose("/<int:send_out_id>")
    @has_access
    def show(self, send_out_id: int):
        send_scope = SendScope(self.class_permission_name)
        send_out = self._scoped(send_scope, send_out_id)
        criteria = segments.from_json(send_out.criteria)
        preview, counted = None, None
        if send_out.status == SendOutStatus.draft:
            survey = bool(send_out.survey_url)
            counted = segments.count(criteria, send_out.channel, sendouts.scope_of(send_out), survey=survey)
            preview = _preview(send_out, segments.sample_recipient(criteria, send_out.channel,
                                                                    sendouts.scope_of(send_out), survey))
        failed = db.session.execute(
            select(SendOutRecipient, Member).join(Member, Member.id == SendOutRecipient.member_id)
            .where(SendOutRecipient.send_out_id == send_out.id, SendOutRecipient.status == RecipientStatus.failed)
            .order_by(SendOutRecipient.id).limit(FAILED_SHOWN)).all()
        return self.render_template(
            "sendouts/show.html", send_out=send_out, described=segments.describe(criteria), counted=counted,
            preview=preview, tally=_tallies([send_out.id]).get(send_out.id, {}), failed=failed,
            percent=jobs.percent, title_of=sendouts.title_of)

    @expose("/<int:send_out_id>/send", methods=["POST"])
    @has_access
    def send(self, send_out_id: int):
        send_scope = SendScope(self.class_permission_name)
        send_out = self._scoped(send_scope, send_out_id)
        try:
            job = sendouts.start_sending(send_out.id, current_user.id)
        except SendOutError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for("SendOutView.show", send_out_id=send_out_id))
        flash(_("The send-out to %(count)s members is being sent in the background.",
                count=db.session.get(SendOut, send_out_id).recipient_count), "success")
        return to_job_page(job)


def _preview(send_out: SendOut, sample) -> dict | None:
    """The message as one member gets it. Its unsubscribe link is a real one for no recipient (it shows how the
    link looks and leads to the page for a link that does not work)."""
    if sample is None:
        return None
    member, address = sample
    if send_out.channel == SendOutChannel.sms:
        return {"to": address, "member": member, "text": sendouts.sms_text(send_out)}
    return {"to": address, "member": member, "subject": send_out.subject, "text": sendouts.email_text(send_out, 0)}


def _tallies(send_out_ids: list[int]) -> dict[int, dict]:
    """Sent, failed and waiting recipients of each send-out (one query)."""
    if not send_out_ids:
        return {}
    rows = db.session.execute(
        select(SendOutRecipient.send_out_id,
               *(func.coalesce(func.sum(case((SendOutRecipient.status == status, 1), else_=0)), 0)
                 for status in RecipientStatus))
        .where(SendOutRecipient.send_out_id.in_(send_out_ids)).group_by(SendOutRecipient.send_out_id)).all()
    return {row[0]: {status.name: int(value) for status, value in zip(RecipientStatus, row[1:])} for row in rows}


# ------------------------------------------------------------------ what was sent to a member


def member_sendouts(member_id) -> list | None:
    """The send-outs that went to the member, for the member's page: None for roles without the send-out screens;
    only the send-outs the viewer's scope reaches."""
    member = row_for_view(Member, member_id, "SendOutView")
    if member is None:
        return None
    grants = sc.get_scope().grants_for_view("SendOutView")
    return sendouts.sent_to_member(member.id, visible_clause(SendOut, grants))


def my_sendouts() -> list:
    """What was sent to the member acting on Min side (nothing for any other role)."""
    active = sc.get_scope().active
    if active is None or active.kind != sc.MEMBERS:
        return []
    return sendouts.sent_to_member(active.target_id)


# ------------------------------------------------------------------ the unsubscribe link (public)


def unsubscribe_limits():
    """A few uses per address and hour, as for the other public forms (UNSUBSCRIBE_RATE_LIMIT)."""
    return post_limits("UNSUBSCRIBE_RATE_LIMIT", "30 per hour",
                       exempt_when=lambda: not current_app.config.get("AUTH_RATE_LIMITED"))


class UnsubscribeView(BaseView):
    """/avmelding/<token>: a page that asks, and a POST that says no to information by e-mail, once."""

    route_base = "/avmelding"
    default_view = "unsubscribe"
    limits = unsubscribe_limits()

    @expose("/<token>", methods=["GET", "POST"])
    def unsubscribe(self, token: str):
        recipient = sendouts.recipient_for_token(token)
        if recipient is None:
            return self.render_template("sendouts/unsubscribe.html", state="invalid"), 404
        if request.method == "GET":
            state = "already_used" if recipient.unsubscribed_at else "confirm"
            return self.render_template("sendouts/unsubscribe.html", state=state, token=token,
                                        used_at=recipient.unsubscribed_at)
        result = sendouts.unsubscribe(recipient)
        db.session.commit()
        db.session.refresh(recipient)
        return self.render_template("sendouts/unsubscribe.html", state=result, token=token,
                                    used_at=recipient.unsubscribed_at, today=dt.date.today())
