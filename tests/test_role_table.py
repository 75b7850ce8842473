"""One table of roles (webapp/security/roles.py) and one scoped lookup by id (issue 12).

The table's facts are pinned here; no other module may hold its own list of
role names; the portal, Min side and messages find rows by id through the row
filters, so a foreign id, a word or an id beyond 64 bits all answer like an id
nobody has.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import login, login_as
from webapp.extensions import db
from webapp.models import DeductionContact, MessageThread, Position
from webapp.models.choices import PositionType
from webapp.security import roles

ROOT = Path(__file__).resolve().parent.parent
HUGE_ID = 2**70

# role: (home page, kind, assigned, declares, answers, writes as party, full national id)
PINNED = {
    "office": (None, "all", True, False, False, False, True),
    "leader": ("UnitPageView.index", "units", False, True, True, False, False),
    "treasurer": ("UnitPageView.index", "units", False, True, True, False, False),
    "member_data_admin": ("UnitPageView.index", "units", False, True, True, False, True),
    "workplace_trustee": ("MemberView.list", "workplaces", False, True, False, False, False),
    "deduction_contact": ("PortalView.index", "employers", False, False, False, True, False),
    "member": ("MyPageView.index", "members", False, False, False, True, False),
    "analyst": ("StatisticsView.index", "aggregate", True, False, False, False, False),
}


def test_the_role_table_holds_each_roles_facts():
    facts = {
        role.name: (role.home, role.kind, role.assigned, role.declares, role.answers, role.writes_as_party,
                    role.full_national_id)
        for role in roles.ROLES
    }
    assert facts == PINNED
    positions = {role.name: role.position for role in roles.ROLES if role.position is not None}
    assert positions == {kind.name: kind for kind in PositionType}
    assert roles.ANSWERING_POSITIONS == (PositionType.leader, PositionType.treasurer, PositionType.member_data_admin)
    assert set(roles.ROLE_GRANTS) == set(PINNED) | {roles.PUBLIC}


def test_role_labels_come_from_the_table(app):
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        assert [roles.role_label(name) for name in ("office", "leader", "workplace_trustee", "deduction_contact")] == [
            "Forbundskontoret", "Leder", "Plasstillitsvalgt", "Trekkontakt"]


# ------------------------------------------------------------------ no copies of the table


def _role_references(node: ast.AST) -> int:
    """How many role names an element of a literal names: roles.LEADER, PositionType.leader, "leader", LEADER."""
    names = set(roles.ALL_ROLES)
    constants = {name.upper() for name in names}
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        return int((owner == "roles" and node.attr in constants) or (owner == "PositionType" and node.attr in names))
    if isinstance(node, ast.Name):
        return int(node.id in constants)
    if isinstance(node, ast.Constant):
        return int(node.value in names)
    return 0


def role_name_collections(source: str) -> list[int]:
    """Line numbers of tuples, lists, sets and dict keys that name two or more roles."""
    found = []
    for node in ast.walk(ast.parse(source)):
        elements = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and elements:
            if sum(_role_references(element) for element in elements if element is not None) >= 2:
                found.append(node.lineno)
    return found


def test_the_checker_finds_a_copied_role_list():
    assert role_name_collections("DECLARING = (roles.LEADER, roles.TREASURER)\n") == [1]
    assert role_name_collections("HOMES = {roles.MEMBER: 'x', roles.ANALYST: 'y'}\n") == [1]
    assert role_name_collections("ANSWERING = [PositionType.leader, PositionType.treasurer]\n") == [1]
    assert role_name_collections("PARTY = {'member', 'deduction_contact'}\n") == [1]
    assert role_name_collections("ONE = (roles.MEMBER, 'x')\n") == []


def test_no_module_but_the_role_table_lists_role_names():
    # The position types' own labels (which the table reuses for the officer roles) are the enum's, not a role list.
    allowed = {ROOT / "webapp/security/roles.py", ROOT / "webapp/models/choices.py"}
    copies = {
        str(path.relative_to(ROOT)): lines
        for folder in ("webapp", "reports")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in allowed and (lines := role_name_collections(path.read_text(encoding="utf-8")))
    }
    assert copies == {}


# ------------------------------------------------------------------ where the copies disagreed


def test_a_trustee_position_stored_at_a_unit_reaches_no_unit(client, world, dbs):
    """The table says a workplace representative's grant reaches workplaces. A trustee position stored at a unit
    (past the form's rule) used to make its holder a "workplace representative" over the whole unit."""
    stored = dbs.get(Position, world.positions["workplace_trustee"].id)
    stored.workplace_id, stored.org_unit_id = None, world.units["AV1"].id
    dbs.commit()
    login(client, world.logins["workplace_trustee"])
    # Only the member role is left, so the user lands on Min side without a choice.
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/minside/")
    assert client.get("/memberview/list/").status_code in (302, 403)


# ------------------------------------------------------------------ lookups by id go through the row filters


@pytest.mark.parametrize("contact_id", ["foreign", "abc", str(HUGE_ID), ""])
def test_portal_removes_only_its_own_contacts(client, world, dbs, contact_id):
    foreign = dbs.scalars(
        select(DeductionContact).where(DeductionContact.employer_id == world.employers["E2"].id)).one()
    login(client, world.logins["deduction_contact"])
    sent = str(foreign.id) if contact_id == "foreign" else contact_id
    response = client.post("/portal/contacts", data={"action": "remove", "contact_id": sent})
    assert response.status_code == 404
    dbs.expire_all()
    assert dbs.get(DeductionContact, foreign.id).end_date is None


@pytest.mark.parametrize("path", ["/minside/applications/{id}/withdraw", "/minside/documents/{id}"])
def test_min_side_answers_an_id_beyond_64_bits_as_one_nobody_has(client, world, path):
    login_as(client, world.logins["member"], "member")
    method = client.post if path.endswith("withdraw") else client.get
    assert method(path.format(id=HUGE_ID)).status_code == 404


def test_an_officer_writing_to_an_id_beyond_64_bits_gets_the_field_message(client, world, dbs):
    login_as(client, world.logins["leader"], "leader")
    response = client.post("/messages/new", data={"member_id": str(HUGE_ID), "subject": "x", "body": "y"})
    assert response.status_code == 422
    assert "Til: velg et medlem" in response.get_data(as_text=True)
    assert dbs.scalar(select(db.func.count(MessageThread.id))) == 0


def test_the_office_writes_to_an_employer_it_names(client, world, dbs):
    login(client, world.logins["office"])
    employer_id = world.employers["E2"].id
    response = client.post("/messages/new", data={"employer_id": str(employer_id), "subject": "Trekk", "body": "Hei"})
    assert response.status_code == 302
    assert dbs.scalars(select(MessageThread.employer_id)).one() == employer_id
    assert client.post("/messages/new",
                       data={"employer_id": str(HUGE_ID), "subject": "x", "body": "y"}).status_code == 422

