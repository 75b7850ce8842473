"""Each role's home page, and the page where a user chooses the role to act in."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from webapp.models import OrgUnit
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import scoped_get
from webapp.security.scope import get_scope
from webapp.services import refunds, regions, statistics, units
from webapp.views.charts import bar_chart


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
        # A region's representative or officer lands on the region's page, as an officer on the unit's.
        endpoint = "UnitPageView.index" if scope.active.kind == sc.REGIONS else roles.home_of(scope.active.role)
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
    """The page of what the acting option is for: an org unit (its officers, its documents), or an employer's region
    or a workplace. The units (regions, workplaces) right below it are links that switch to them."""

    route_base = "/unit"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        scope = get_scope()
        active = scope.active
        if active is None or active.kind not in (sc.UNITS, sc.REGIONS, sc.WORKPLACES):
            abort(403)
        below = [option for option in scope.options_below(active) if option.depth == 1]
        if active.kind != sc.UNITS:
            place = regions.place_overview(active, scope.grants)
            if place is None:
                abort(404)
            return self.render_template("home/region.html", place=place, kind=active.kind, options_below=below)
        unit = scoped_get(OrgUnit, active.target_id)
        overview = units.unit_overview(unit, scope.grants)
        return self.render_template(
            "home/unit.html", unit=unit, member_count=overview.member_count, options_below=below,
            officers=overview.officers, refund_documents=refunds.unit_documents(unit.id),
        )


class StatisticsView(BaseView):
    """Aggregated membership figures for analysts: counts only, no member rows."""

    route_base = "/statistics"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        by_association = statistics.members_by_national_association()
        by_category = statistics.members_by_category()
        return self.render_template(
            "home/statistics.html",
            counts=statistics.register_counts(),
            by_association=by_association,
            by_category=by_category,
            association_chart=bar_chart(by_association, _("National association"), _("Members"),
                                        _("Active members by national association")),
            category_chart=bar_chart(by_category, _("Category"), _("Members"), _("Active members by category")),
        )
