"""Each role's home page, and the page where a user chooses the role to act in."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user

from webapp.models import OrgUnit
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import scoped_get
from webapp.security.scope import get_scope
from webapp.services import refunds, statistics, units


class HomeView(IndexView):
    """The landing page: the office's overview, or a redirect to the role's own home."""

    index_template = "home/office.html"

    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        scope = get_scope()
        if scope.active is None:
            return self.render_template("home/no_role.html")
        endpoint = roles.home_of(scope.active.role)
        if endpoint:
            return redirect(url_for(endpoint))
        return self.render_template(self.index_template, counts=statistics.register_counts())


class ActingRoleView(BaseView):
    """Choose, or switch, the role and unit to act in."""

    route_base = "/acting"
    default_view = "choose"

    @expose("/choose")
    def choose(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("home/choose_role.html", scope=get_scope())

    @expose("/switch", methods=["POST"])
    def switch(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        if not sc.choose(request.form.get("key", "")):
            abort(403)
        return redirect(url_for("HomeView.index"))


class UnitPageView(BaseView):
    """The org unit's page for its officers: the unit, its officers and its documents."""

    route_base = "/unit"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        unit = scoped_get(OrgUnit, sc.acting_target_id(sc.UNITS))
        overview = units.unit_overview(unit, get_scope().grants)
        return self.render_template(
            "home/unit.html", unit=unit, member_count=overview.member_count, child_units=overview.child_units,
            officers=overview.officers, refund_documents=refunds.unit_documents(unit.id),
        )


class StatisticsView(BaseView):
    """Aggregated membership figures for analysts: counts only, no member rows."""

    route_base = "/statistics"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template(
            "home/statistics.html",
            counts=statistics.register_counts(),
            by_association=statistics.members_by_national_association(),
            by_category=statistics.members_by_category(),
        )
