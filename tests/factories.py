"""A small, fully known register for tests: two branches in two national associations.

    NTF (union)
    ├── LF1 (national association)
    │   └── AV1 (branch)          workplace W1 (employer E1)
    │       └── KL1 (club)        workplace W1b (employer E1)
    └── LF2 (national association)
        └── AV2 (branch)          workplace W2 (employer E2)

Every role has a login whose scope is on the LF1/AV1 side, so every row on
the LF2/AV2 side is outside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from werkzeug.security import generate_password_hash

from webapp.extensions import db
from webapp.models import (
    ConfidentialityDeclaration,
    DeductionContact,
    Employer,
    Employment,
    Member,
    OrgUnit,
    Position,
    Workplace,
)
from webapp.models.choices import (
    ContactChoice,
    EmployerAssociation,
    MemberCategory,
    OrgLevel,
    PositionType,
    Sector,
)
from webapp.services.validation import person_facts

PASSWORD = "Test-passord-2026!"
_HASH = None


def national_id(birth: dt.date, individual: int) -> str:
    """A valid fødselsnummer for a birth date and a three-digit individual number."""
    base = f"{birth:%d%m%y}{individual:03d}"
    weights1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
    weights2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    for _ in range(1000):
        k1 = (11 - sum(int(d) * w for d, w in zip(base, weights1)) % 11) % 11
        if k1 == 10:
            individual += 1
            base = f"{birth:%d%m%y}{individual:03d}"
            continue
        k2 = (11 - sum(int(d) * w for d, w in zip(base + str(k1), weights2)) % 11) % 11
        if k2 == 10:
            individual += 1
            base = f"{birth:%d%m%y}{individual:03d}"
            continue
        return f"{base}{k1}{k2}"
    raise ValueError("no valid national id")


def make_user(username: str, first: str = "Test", last: str = "Bruker", roles: list[str] | None = None):
    global _HASH
    from flask import current_app

    sm = current_app.appbuilder.sm
    if _HASH is None:
        _HASH = generate_password_hash(PASSWORD, method=current_app.config["FAB_PASSWORD_HASH_METHOD"])
    user = sm.user_model(
        first_name=first, last_name=last, username=username, email=f"{username}@test.invalid", active=True,
        password=_HASH
    )
    user.roles = [sm.find_role(name) for name in (roles or [])]
    db.session.add(user)
    db.session.flush()
    return user


_member_seq = [0]


def make_member(unit: OrgUnit, first: str, last: str, birth=dt.date(1980, 5, 17), **extra) -> Member:
    _member_seq[0] += 1
    n = _member_seq[0]
    nid = national_id(birth, 100 + (n * 7) % 350)
    member = Member(
        member_no=f"75{n:06d}",
        national_id=nid,
        first_name=first,
        last_name=last,
        home_unit=unit,
        joined_on=dt.date(2015, 1, 1),
        category=MemberCategory.ordinary,
        email_private=f"m{n}@example.no",
        email_to=ContactChoice.private,
        **extra,
    )
    member.birth_date, member.gender = person_facts(nid)
    db.session.add(member)
    db.session.flush()
    return member


@dataclass
class World:
    units: dict[str, OrgUnit] = field(default_factory=dict)
    employers: dict[str, Employer] = field(default_factory=dict)
    workplaces: dict[str, Workplace] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    employments: dict[str, Employment] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    # role -> username of a login acting in that role on the LF1/AV1 side
    logins: dict[str, str] = field(default_factory=dict)


def build_world() -> World:
    _member_seq[0] = 0
    w = World()
    today = dt.date.today()

    def unit(code, name, level, parent=None, account="90010741504"):
        u = OrgUnit(code=code, name=name, level=level, parent=parent, bank_account=account, receives_refunds=True)
        db.session.add(u)
        w.units[code] = u
        return u

    ntf = unit("NTF", "Norsk Tjenesteforbund", OrgLevel.union)
    lf1 = unit("LF1", "Landsforening én", OrgLevel.national_association, ntf)
    lf2 = unit("LF2", "Landsforening to", OrgLevel.national_association, ntf)
    av1 = unit("AV1", "Avdeling Øst", OrgLevel.branch, lf1)
    av2 = unit("AV2", "Avdeling Vest", OrgLevel.branch, lf2)
    kl1 = unit("KL1", "Klubb Ås", OrgLevel.club, av1)

    def employer(key, orgnr, customer, association=EmployerAssociation.staten, sector=Sector.state):
        e = Employer(
            org_number=orgnr, name=f"Virksomhet {key}", association=association, sector=sector,
            has_deduction_agreement=True, customer_no=customer, address="Gata 1", postcode="0150", city="Oslo",
        )
        db.session.add(e)
        w.employers[key] = e
        return e

    e1 = employer("E1", "974760673", "94001761")
    e2 = employer("E2", "971524960", "00080000", EmployerAssociation.spekter, Sector.state)

    def workplace(key, emp, org_unit, county):
        p = Workplace(employer=emp, name=f"Arbeidssted {key}", municipality="Oslo", county=county, org_unit=org_unit)
        db.session.add(p)
        w.workplaces[key] = p
        return p

    w1 = workplace("W1", e1, av1, "Oslo")
    w1b = workplace("W1b", e1, kl1, "Akershus")
    w2 = workplace("W2", e2, av2, "Vestland")
    db.session.flush()

    # Members: two inside AV1's subtree, one in AV2.
    w.members["inside"] = make_member(av1, "Kari", "Nordmann")
    w.members["club"] = make_member(kl1, "Ola", "Æsøy")
    w.members["outside"] = make_member(av2, "Per", "Utenfor")
    w.members["lf1_direct"] = make_member(lf1, "Lise", "Landsen")

    def employment(key, member, place, start=dt.date(2020, 1, 1)):
        e = Employment(member=member, employer=place.employer, workplace=place, start_date=start, position_pct=100,
                       on_deduction=True)
        db.session.add(e)
        w.employments[key] = e
        return e

    employment("inside", w.members["inside"], w1)
    employment("club", w.members["club"], w1b)
    employment("outside", w.members["outside"], w2)

    # Officers: each a member with a user, holding a position on the LF1/AV1 side.
    def officer(key, role_type, unit_or_place, home):
        member = make_member(home, key.capitalize(), "Tillitsvalgt")
        user = make_user(member.member_no, member.first_name, member.last_name)
        member.user = user
        at_workplace = role_type == PositionType.workplace_trustee
        kwargs = {"workplace": unit_or_place} if at_workplace else {"org_unit": unit_or_place}
        pos = Position(member=member, type=role_type, start_date=today - dt.timedelta(days=30), **kwargs)
        db.session.add(pos)
        w.positions[key] = pos
        w.members[key] = member
        w.logins[role_type.name] = user.username
        # Officers of the world have confirmed the duty of confidentiality (tests of the declaration make their own).
        db.session.add(ConfidentialityDeclaration(user=user, confirmed_at=dt.datetime.now(), text_version="test"))
        return member

    officer("leader", PositionType.leader, av1, av1)
    officer("treasurer", PositionType.treasurer, av1, av1)
    officer("member_data_admin", PositionType.member_data_admin, lf1, av1)
    officer("workplace_trustee", PositionType.workplace_trustee, w1, av1)
    # A position outside every demo scope, for the position screens.
    w.positions["outside"] = Position(
        member=w.members["outside"], type=PositionType.leader, org_unit=av2, start_date=today - dt.timedelta(days=10)
    )
    db.session.add(w.positions["outside"])

    # A plain member with a login: the "inside" member.
    member_user = make_user(w.members["inside"].member_no, "Kari", "Nordmann")
    w.members["inside"].user = member_user
    w.logins["member"] = member_user.username
    outside_user = make_user(w.members["outside"].member_no, "Per", "Utenfor")
    w.members["outside"].user = outside_user

    contact = make_user("20000001", "Trude", "Trekk")
    db.session.add(DeductionContact(user=contact, employer=e1, start_date=today - dt.timedelta(days=100)))
    w.logins["deduction_contact"] = contact.username
    other_contact = make_user("20000002", "Otto", "Annen")
    db.session.add(DeductionContact(user=other_contact, employer=e2, start_date=today - dt.timedelta(days=100)))

    w.logins["office"] = make_user("kontor", "Kontor", "Ansatt", roles=["office"]).username
    w.logins["analyst"] = make_user("analytiker", "Ana", "Lytiker", roles=["analyst"]).username
    db.session.commit()
    for table in (w.units, w.employers, w.workplaces, w.members, w.employments, w.positions):
        for row in table.values():
            db.session.refresh(row)
    db.session.expunge_all()
    return w


def add_initial_rate():
    """The seed's rates: 1.1 %, contents 85 kr, travel 91 kr, apprentices 42 kr in total."""
    from webapp.models import DuesRate

    rate = DuesRate(valid_from=dt.date(2000, 1, 1), percent=1.1, contents_insurance_ore=8500, travel_insurance_ore=9100,
                    apprentice_flat_ore=4200, note="Initial rates")
    db.session.add(rate)
    db.session.commit()
    return rate


# ------------------------------------------------------------------ enrollment (issue 15)


def add_policy_texts() -> tuple[int, int]:
    """The published membership terms and privacy statement (ids), as an application consents to them; made once."""
    from sqlalchemy import select

    from webapp.models import PolicyText
    from webapp.models.choices import PolicyKind

    ids = []
    for kind, title in ((PolicyKind.terms, "Medlemsvilkår"), (PolicyKind.privacy, "Personvernerklæring")):
        text = db.session.scalars(select(PolicyText).where(PolicyText.kind == kind)).first()
        if text is None:
            text = PolicyText(kind=kind, version="2026-1", published_on=dt.date(2026, 1, 1), title=title,
                              body=f"{title}: teksten som gjelder.")
            db.session.add(text)
            db.session.flush()
        ids.append(text.id)
    return ids[0], ids[1]


def add_lo_union(code: str = "FF", name: str = "Fellesforbundet", active: bool = True):
    from webapp.models import LoUnion

    union = LoUnion(code=code, name=name, active=active)
    db.session.add(union)
    db.session.flush()
    return union


_application_seq = [0]


def make_application(**fields):
    """A pending online enrollment (as /innmelding saves it), with a fresh valid national id unless given;
    `fields` override any column. Not committed."""
    from webapp.models import MembershipApplication
    from webapp.models.choices import EnrollmentStatus, WorkSituation

    _application_seq[0] += 1
    n = _application_seq[0]
    terms_id, privacy_id = add_policy_texts()
    values = {
        "status": EnrollmentStatus.pending, "submitted_at": dt.datetime.now() - dt.timedelta(hours=1),
        "first_name": "Søker", "last_name": f"Nummer{n}", "national_id": national_id(dt.date(1990, 3, 1), 400 + n * 3),
        "address": "Søkerveien 1", "postcode": "0150", "city": "Oslo", "email": f"soker{n}@example.no",
        "mobile": "+4791234567", "work_situation": WorkSituation.not_employed, "category": MemberCategory.ordinary,
        "travel_insurance": True, "magazine": True, "terms_id": terms_id, "privacy_id": privacy_id,
    }
    values.update(fields)
    application = MembershipApplication(**values)
    db.session.add(application)
    db.session.flush()
    return application
