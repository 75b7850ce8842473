"""The user guide: one page per role at /guide/<role> and an index at /guide/, public (linked from the login page).

Each step names the screenshot it shows (webapp/static/guide/<shot>.png). The screenshots are taken from the demo
data by a browser test (tests/browser/test_guide_screens.py), which takes exactly the shots named here, so the
pictures follow the screens they show.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l

from webapp.security import roles
from webapp.security.scope import get_scope


@dataclass(frozen=True)
class Step:
    title: object  # lazy translated strings
    paragraphs: tuple
    shot: str | None = None  # webapp/static/guide/<shot>.png
    alt: object = None  # what the screenshot shows, for screen readers


@dataclass(frozen=True)
class Guide:
    role: str
    summary: object
    steps: tuple[Step, ...]


GETTING_STARTED = (
    Step(_l("Logging in"), (
        _l("Officers and members log in with their membership number, payroll staff of an employer (deduction "
           "contacts) with their 8-digit id, the union office and analysts with the username they were given."),
        _l("Forgot your password? Choose \"Forgot password?\" under the login form: a link to choose a new one "
           "comes by e-mail or SMS and works once, for 24 hours. Payroll staff who have no login yet ask for "
           "access from the same page."),
    ), "login", _l("The login page with username, password and the link for a forgotten password")),
    Step(_l("Becoming a member"), (
        _l("Anyone can join online at /innmelding (\"Bli medlem\" on the login page), from a phone or a computer: "
           "name, national identity number, address, contact details, where you work, and consent to the "
           "membership terms and the privacy statement. A receipt comes by e-mail."),
        _l("When the union office has approved the application, an e-mail brings your membership number and a "
           "link to choose your password; then you log in to My page."),
    ), "enrollment", _l("The online enrollment form with name, national identity number and address")),
    Step(_l("Choosing what to act as"), (
        _l("Many people have more than one role: a member who is also a branch leader, or a leader of two units. "
           "After login you choose the role and unit to act in; everything you see and do is then limited to it."),
        _l("The top bar always shows the role and unit you act in. Open it to switch to another role, or to a "
           "unit below your own, without logging out."),
    ), "choose-role", _l("The page for choosing a role after login, with one button per role and unit")),
    Step(_l("Language, password and help"), (
        _l("The screens are in Norwegian; the flag in the top bar switches to English and back. Change your "
           "password under your name in the top bar's menu. This guide is always under \"Help\" in the menu."),
    )),
)

GUIDES: tuple[Guide, ...] = (
    Guide(roles.OFFICE, _l("The union office keeps the register and runs the monthly and quarterly work."), (
        Step(_l("The overview"), (
            _l("You land on an overview of the register: active members, organisational units, employers and "
               "workplaces. The menu holds every register and task; you see and may change everything."),
        ), "office-home", _l("The office's overview with the number of members, units, employers and workplaces")),
        Step(_l("Members and the register"), (
            _l("Register → Members lists every member. Search by name, membership number or unit with the "
               "search box above the list, open a member to see employments, positions, payment method and "
               "invoices, and edit with the pencil."),
        ), "office-members", _l("The member list with its search and the members' names, numbers and units")),
        Step(_l("New members, transfers and leaving"), (
            _l("Membership → Applications lists the online enrollments, oldest first, flagged when the person is a "
               "member already, was one before (a re-join) or comes from another LO union. Open one, check the "
               "home unit the mapping proposes, and approve: the member gets a membership number, a login, a "
               "welcome letter and an e-mail. A rejection needs a reason, which is mailed to the applicant."),
            _l("On a member's page you register a resignation from a letter, a transfer to another LO union (with "
               "the confirmation for the receiving union as PDF) or a transfer in that keeps the seniority. "
               "Membership → Transfers lists them and makes the quarterly report to LO."),
        ), "office-applications", _l("The queue of online enrollments with their flags")),
        Step(_l("Agreements, ballots and send-outs"), (
            _l("Register → Collective agreements says which employers (and categories) each agreement covers. "
               "Membership → Ballots makes a ballot under an agreement: the voter list is the members covered on "
               "the cut-off date; lock it to freeze it, then export the file for the ballot vendor (membership "
               "number, name, e-mail and mobile only). Voters see their vote on My page."),
            _l("Membership → Send-outs writes to a chosen group of members by e-mail or SMS: choose by status, "
               "category, unit, employer, workplace, county, agreement or age, see the count and a preview, and "
               "send. The sending runs as a job (Membership → Jobs shows its progress); members who said no to "
               "the channel are left out, and every e-mail has a link to say no. Save a choice as a segment to "
               "use it again."),
            _l("A course's page has its participant lists: the full list for the venue and course holder (with "
               "the special needs members chose to give) and the participants' list (name, workplace and e-mail "
               "only)."),
        ), "office-sendouts", _l("The list of send-outs with their channel, count and status")),
        Step(_l("The monthly deduction cycle"), (
            _l("Deductions → Reconciliation shows, for each employer and month, the basis, the deduction list the "
               "employer delivered and the payments received, with what is missing or differs. Open a row to see "
               "its lines; only the office reopens a delivered list."),
            _l("The calendar makes next month's basis and sends the notices on the 15th, and reminds employers "
               "without a delivered list on the 20th and the last day. Membership → Runs starts the same runs by "
               "hand, and the privacy purge (a dry run unless you type the confirmation); each run is a job with "
               "its progress and log, and a run that is done already does nothing twice."),
        ), "office-reconciliation", _l("The reconciliation list with status per employer and month")),
        Step(_l("Payments that need a decision"), (
            _l("Direct payment → Unmatched payments lists the payments whose KID matched nothing. Match each to "
               "an invoice or an employer's month, or return it with a reason; every decision can be undone."),
        ), "office-unmatched", _l("The queue of unmatched payments with what each KID says")),
        Step(_l("Refunds and reports"), (
            _l("Refunds → Quarterly refunds calculates a quarter's refunds to the units, shows them for checking "
               "and approves them; the units then find their letter on their unit page. Reports → Membership "
               "reports makes the reports to LO and the employer associations."),
        ), "office-refunds", _l("The quarterly refunds page with calculated and approved quarters")),
    )),
    Guide(roles.LEADER, _l("A leader sees the members of the unit and every unit below it, and registers "
                           "positions."), (
        Step(_l("The unit page"), (
            _l("You land on your unit's page: how many members it has, its officers, the units below it (each a "
               "link to its own page) and the unit's documents, such as the refund letters."),
        ), "leader-unit", _l("The unit page with members, officers, the units below and the documents")),
        Step(_l("Switching to a unit below"), (
            _l("Open the role in the top bar to act for a unit below your own, for instance a branch of your "
               "national association: its page, members and documents open as if it were your own."),
        ), "leader-switch", _l("The opened role menu in the top bar listing the units below")),
        Step(_l("Members and positions"), (
            _l("Register → Members lists the members of your units. Register → Positions lists who holds which "
               "position; add a position with the plus button. Before the first member list you confirm the duty "
               "of confidentiality once."),
        ), "leader-positions", _l("The list of positions in the leader's units")),
    )),
    Guide(roles.TREASURER, _l("A treasurer reads the members of the unit and units below, and fetches the "
                              "refund letters."), (
        Step(_l("The unit page and the refund documents"), (
            _l("You land on your unit's page. Under Documents are the unit's refund letter and list for each "
               "approved quarter, as PDF: the amount, how it was calculated and the members it was counted from."),
        ), "treasurer-unit", _l("The unit page with the refund documents of approved quarters")),
        Step(_l("Members"), (
            _l("Register → Members lists the members of your units, for reading. Questions from members come "
               "under Messages; the e-mail only says that a message is waiting."),
        )),
    )),
    Guide(roles.MEMBER_DATA_ADMIN, _l("A member data administrator keeps the members and employments of the "
                                      "units up to date."), (
        Step(_l("The members of your units"), (
            _l("Register → Members lists the members of your units with their full national identity numbers. "
               "Search with the box above the list and open a member to see the details."),
        ), "mda-members", _l("The member list of a national association")),
        Step(_l("Editing a member"), (
            _l("Choose the pencil on a member to correct address, contact details or category. Register → "
               "Employments adds a new employment (start typing the employer's name) or ends one with a date."),
        ), "mda-member-edit", _l("The form for editing a member")),
    )),
    Guide(roles.WORKPLACE_TRUSTEE, _l("A workplace trustee sees the members working at the workplace."), (
        Step(_l("The duty of confidentiality"), (
            _l("The first time you open a member list you confirm the duty of confidentiality. It is asked for "
               "once and kept with the time you confirmed it."),
        ), "trustee-declaration", _l("The declaration of confidentiality with its confirm button")),
        Step(_l("The members at your workplace"), (
            _l("You then land on the list of members working at your workplace, with their contact details, "
               "for reading. National identity numbers show only their first six digits."),
        ), "trustee-members", _l("The list of members at the trustee's workplace")),
    )),
    Guide(roles.DEDUCTION_CONTACT, _l("Payroll staff of an employer register the monthly deduction list in the "
                                      "deduction portal."), (
        Step(_l("The portal"), (
            _l("You land on the deduction portal of your employer: each month's changes and basis from the union "
               "(who starts, stops or changes), the KID and account to pay to, and the lists you delivered."),
        ), "contact-portal", _l("The deduction portal with the months, the basis and the lists")),
        Step(_l("Registering the deduction list"), (
            _l("Choose \"Register deduction list\" for the month. Fill in the amount deducted for each member, or "
               "a deviation with a reason; \"Same as last month\" fills what you deducted the month before. "
               "\"Save draft\" keeps what you filled in, as often as you like, until you come back; "
               "\"Approve and deliver\" locks the list."),
            _l("You may instead upload the list as a CSV file (the template is on the page), and add members who "
               "are not on the basis by their national identity number."),
        ), "contact-list", _l("A deduction list being filled in, with amounts and deviations per member")),
        Step(_l("Handing over"), (
            _l("Under Deduction contacts you add the colleague who takes over and remove yourself. Messages to and "
               "from the union are under Messages."),
        )),
    )),
    Guide(roles.MEMBER, _l("Members find their own details, membership and documents on My page."), (
        Step(_l("My page"), (
            _l("You land on My page: your personal details and membership, your union representatives, "
               "employments and positions, and your latest messages. Edit details with the pencil; the change "
               "is saved at once."),
            _l("\"Download my data\" gives everything the union holds about you, as PDF or as a data file."),
        ), "member-mypage", _l("My page with personal details, membership and representatives")),
        Step(_l("Courses, invoices and documents"), (
            _l("Under Courses you apply for a course and can withdraw the application until its deadline. "
               "Members who pay the union themselves find their invoices with their status and the PDF; letters "
               "and course certificates are under Documents."),
        ), "member-courses", _l("The list of courses with their dates, places and the apply button")),
        Step(_l("Resigning"), (
            _l("\"Meld deg ut\" on My page ends your membership at the end of this month: choose the reason, "
               "confirm, and you get a confirmation by e-mail. The deduction from your pay or the invoices stop "
               "after that month. Moving to another LO union? Tell the union office, which transfers you."),
        ), "member-resign", _l("The resignation page with the reason, the date it takes effect and the confirmation")),
    )),
    Guide(roles.ANALYST, _l("An analyst sees aggregated figures only: no member rows and no national identity "
                            "numbers."), (
        Step(_l("Membership statistics"), (
            _l("You land on the membership statistics: active members in total, by national association and by "
               "category, as charts and as tables."),
        ), "analyst-statistics", _l("The membership statistics with charts by national association and category")),
        Step(_l("Membership reports"), (
            _l("Reports → Membership reports makes the reports to LO / LO Stat and to the employer associations "
               "for a date, as PDF, CSV and spreadsheet, and sends them; Reports sent shows what went when."),
        ), "analyst-reports", _l("The membership reports page with the report date and the reports")),
    )),
)
GUIDE_OF = {guide.role: guide for guide in GUIDES}


def shot_names() -> set[str]:
    """Every screenshot the guide shows (the browser test takes exactly these)."""
    steps = list(GETTING_STARTED) + [step for guide in GUIDES for step in guide.steps]
    return {step.shot for step in steps if step.shot}


class GuideView(BaseView):
    """The guide is public: it is linked from the login page and explains logging in."""

    route_base = "/guide"
    default_view = "index"

    @expose("/")
    def index(self):
        return self.render_template("guide/index.html", getting_started=GETTING_STARTED, guides=GUIDES)

    @expose("/mine")
    def mine(self):
        """The menu's link: the guide of the role acted in, else the index."""
        scope = get_scope()
        role = scope.active.role if scope.active else None
        if role in GUIDE_OF:
            return redirect(url_for("GuideView.role", role=role))
        return redirect(url_for("GuideView.index"))

    @expose("/<role>")
    def role(self, role: str):
        guide = GUIDE_OF.get(role)
        if guide is None:
            abort(404)
        return self.render_template("guide/role.html", guide=guide, guides=GUIDES)
