"""Demo data for collective agreements and ballots.

- the state's main agreement (counterpart: the state as employer association) covering every state employer;
- Spekter's A2 agreement for the health trusts, covering every Spekter employer, open-ended;
- a single-employer agreement (the demo member's employer when it is neither state nor Spekter, else the largest
  such employer) covering ordinary members and apprentices only;
- a locked ballot closing in three weeks, under the first agreement that covers the demo member (so the demo
  member's Min side shows the vote), its list frozen by the real service (webapp.services.ballots.lock);
- a draft ballot under another agreement, whose list still follows the register.

Run after the life cycle by `flask seed` and `python run.py`; dates are relative to today; a second run adds
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import DemoAccount, Employer, Employment, Member
from webapp.models.choices import EmployerAssociation, MemberCategory
from webapp.models.outreach import CollectiveAgreement
from webapp.services import ballots
from webapp.services.agreements import covers, set_categories
from webapp.services.membership import main_employment_order
from webapp.services.periods import current_on_clause

LOCKED_CUTOFF_DAYS_AGO = 10
LOCKED_CLOSES_IN_DAYS = 21
DRAFT_CLOSES_IN_DAYS = 45


@dataclass
class OutreachSeedResult:
    agreements: list[str] = field(default_factory=list)
    ballots: list[str] = field(default_factory=list)
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "agreements and ballots: already there, nothing added"
        return (f"agreements: {len(self.agreements)} ({'; '.join(self.agreements)}); "
                f"ballots: {len(self.ballots)} ({'; '.join(self.ballots)})")


def _employers_of(association: EmployerAssociation) -> list[Employer]:
    return list(db.session.scalars(select(Employer).where(Employer.association == association)
                                   .order_by(Employer.name, Employer.id)))


def _demo_member(today: dt.date) -> tuple[Member | None, Employer | None]:
    """The first demo member login and the employer of their main current employment."""
    number = db.session.scalar(select(DemoAccount.username).where(DemoAccount.role == "member")
                               .order_by(DemoAccount.id).limit(1))
    member = db.session.scalar(select(Member).where(Member.member_no == number)) if number else None
    if member is None:
        return None, None
    employer_id = db.session.scalar(
        select(Employment.employer_id).where(Employment.member_id == member.id,
                                             current_on_clause(Employment.start_date, Employment.end_date, today))
        .order_by(*main_employment_order()).limit(1))
    return member, db.session.get(Employer, employer_id) if employer_id else None


def _largest_other_employer(today: dt.date) -> Employer | None:
    """The employer with most current employments that is neither a state nor a Spekter employer."""
    counted = (select(Employment.employer_id, func.count().label("people"))
               .where(current_on_clause(Employment.start_date, Employment.end_date, today))
               .group_by(Employment.employer_id).subquery())
    return db.session.scalar(
        select(Employer).join(counted, counted.c.employer_id == Employer.id)
        .where(Employer.association.not_in([EmployerAssociation.staten, EmployerAssociation.spekter]))
        .order_by(counted.c.people.desc(), Employer.id).limit(1))


def _agreement(name: str, employers: list[Employer], valid_from: dt.date, valid_to: dt.date | None,
               association: EmployerAssociation | None = None, employer: Employer | None = None,
               categories: tuple[MemberCategory, ...] = (), note: str | None = None) -> CollectiveAgreement:
    agreement = CollectiveAgreement(name=name, counterpart_association=association, counterpart_employer=employer,
                                    valid_from=valid_from, valid_to=valid_to, note=note)
    agreement.employers = employers
    db.session.add(agreement)
    db.session.flush()
    set_categories(agreement.id, categories)
    db.session.flush()
    return agreement


def _agreements(today: dt.date, single: Employer | None) -> list[CollectiveAgreement]:
    made = [
        _agreement("Statens hovedtariffavtale (LO Stat)", _employers_of(EmployerAssociation.staten),
                   dt.date(today.year - 1, 5, 1), dt.date(today.year + 1, 4, 30), EmployerAssociation.staten,
                   note="Hovedtariffavtalen i staten med LO Stat; omfatter de statlige virksomhetene."),
        _agreement("Spekter A2 – helseforetakene", _employers_of(EmployerAssociation.spekter),
                   dt.date(today.year - 2, 1, 1), None, EmployerAssociation.spekter,
                   note="Avtalens A2-del for helseforetakene; gjelder til den sies opp."),
    ]
    if single is not None:
        made.append(_agreement(f"Bedriftsavtale {single.name}", [single], dt.date(today.year - 1, 1, 1),
                               dt.date(today.year + 1, 12, 31), employer=single,
                               categories=(MemberCategory.ordinary, MemberCategory.apprentice),
                               note="Særavtale med én arbeidsgiver; omfatter ordinære medlemmer og lærlinger."))
    return made


def seed_outreach(today: dt.date | None = None) -> OutreachSeedResult:
    """Add the demo agreements and ballots (see the module); commits."""
    today = today or dt.date.today()
    result = OutreachSeedResult()
    if db.session.scalar(select(func.count(CollectiveAgreement.id))):
        result.skipped = True
        return result
    member, employer = _demo_member(today)
    single = employer if employer is not None and employer.association not in (
        EmployerAssociation.staten, EmployerAssociation.spekter) else _largest_other_employer(today)
    made = _agreements(today, single)
    result.agreements = [agreement.name for agreement in made]
    cutoff = today - dt.timedelta(days=LOCKED_CUTOFF_DAYS_AGO)
    voter_agreement = next((agreement for agreement in made if member is not None
                            and covers(agreement.id, member.id, cutoff)), made[0])
    draft_agreement = next(agreement for agreement in made if agreement is not voter_agreement)
    db.session.commit()
    locked = ballots.create(ballots.BallotForm(
        voter_agreement.id, f"Uravstemning om lønnsoppgjøret {today.year}", cutoff,
        today + dt.timedelta(days=LOCKED_CLOSES_IN_DAYS)))
    count = ballots.lock(locked.id, None)
    draft = ballots.create(ballots.BallotForm(
        draft_agreement.id, f"Uravstemning om forhandlingsresultatet {today.year}", today,
        today + dt.timedelta(days=DRAFT_CLOSES_IN_DAYS)))
    result.ballots = [f"{locked.title}: locked, {count} voters", f"{draft.title}: draft"]
    return result
