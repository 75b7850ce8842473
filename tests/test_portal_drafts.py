"""Deduction list drafts (issue 14): a draft keeps whatever is filled in, completeness is checked on approval
line by line, amounts start from what the union knows (the basis's fixed part) and "same as last month" copies
what the employer reported for the same person in the month before."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from tests.mypage_helpers import translated
from tests.portal_helpers import (
    E2_FEBRUARY,
    FEBRUARY,
    PERIOD,
    build_portal_months,
    flashes,
    line_id_of,
    open_march_draft,
    page_text,
    stored_lines,
)
from webapp.extensions import db
from webapp.models import DeductionList
from webapp.models.choices import ListKind, ListStatus
from webapp.services import deduction_lists
from webapp.services.deduction_lists import LineInput, ListError


@pytest.fixture()
def months(clean_app, world):
    return build_portal_months(clean_app, world)


@pytest.fixture()
def draft(client, months):
    return open_march_draft(client, months)


def ids(months, draft) -> dict[str, int]:
    """Line ids of the March draft by member key."""
    return {key: line_id_of(draft, member_id) for key, member_id in months.member_ids.items()}


# ------------------------------------------------------------------ prefilled from the basis


def test_a_new_list_starts_from_the_fixed_part_of_the_basis(clean_app, months, draft):
    lines = stored_lines(clean_app, draft.id)
    member = months.member_ids
    assert lines[member["inside"]] == (176_00, None, None)  # contents 85 + travel 91; the percentage is to add
    assert lines[member["club"]] == (None, None, None)  # no insurances: nothing known, nothing shown as an amount
    assert lines[member["apprentice"]] == (42_00, None, None)  # the apprentice's flat amount is all of it


def test_the_edit_page_shows_the_fixed_part_and_the_percentage_to_add(client, months, draft):
    page = page_text(client.get(f"/portal/lists/{draft.id}"))
    line = ids(months, draft)
    kari = re.search(rf'<tr id="line-{line["inside"]}".*?</tr>', page, re.S).group(0)
    assert "kr 176,00 + 1,1 %" in kari and 'value="176,00"' in kari
    lars = re.search(rf'<tr id="line-{line["apprentice"]}".*?</tr>', page, re.S).group(0)
    assert "kr 42,00" in lars and "%" not in re.search(r'class="basis-part[^>]*>(.*?)</td>', lars, re.S).group(1)
    ola = re.search(rf'<tr id="line-{line["club"]}".*?</tr>', page, re.S).group(0)
    assert re.search(r'class="basis-part[^>]*>(.*?)</td>', ola, re.S).group(1).strip() == "1,1 %"
    assert "legger du til prosentkontingenten" in page


# ------------------------------------------------------------------ a draft keeps what is filled in


def test_a_half_filled_draft_is_saved_and_kept_on_reload(client, clean_app, months, draft):
    line = ids(months, draft)
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": "save", f"amount_{line['inside']}": "3 210,50", f"amount_{line['club']}": "",
        f"amount_{line['apprentice']}": "", f"deviation_{line['apprentice']}": "other",
    }, follow_redirects=True)
    assert flashes(response) == [translated(clean_app, "The draft is saved.")]
    member = months.member_ids
    assert stored_lines(clean_app, draft.id) == {
        member["inside"]: (321050, None, None), member["club"]: (None, None, None),
        member["apprentice"]: (None, "other", None),  # 'other' without its comment: allowed in a draft
    }
    reloaded = page_text(client.get(f"/portal/lists/{draft.id}"))  # a new request, as after logging in again
    assert f'name="amount_{line["inside"]}" id="amount_{line["inside"]}"' in reloaded
    assert re.search(rf'name="amount_{line["inside"]}"[^>]*value="3\xa0210,50"', reloaded)
    assert re.search(rf'name="deviation_{line["apprentice"]}".*?<option value="other" selected', reloaded, re.S)


def test_a_malformed_amount_in_a_draft_is_refused_on_its_line_and_nothing_is_saved(client, clean_app, months,
                                                                                     draft):
    line = ids(months, draft)
    before = stored_lines(clean_app, draft.id)
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": "save", f"amount_{line['inside']}": "3000", f"amount_{line['club']}": "tre hundre",
    })
    page = page_text(response)
    assert response.status_code == 200
    assert translated(clean_app, "Amount: '%(value)s' is not an amount in kroner (e.g. 312,50).",
                      value="tre hundre") in page
    row = re.search(rf'<tr id="line-{line["club"]}"[^>]*>', page).group(0)
    assert 'class="danger"' in row
    assert 'value="tre hundre"' in page and 'value="3000"' in page  # what was typed stays on the page
    assert stored_lines(clean_app, draft.id) == before


def test_an_amount_over_the_bound_is_refused_in_a_draft_too(client, clean_app, months, draft):
    line = ids(months, draft)
    before = stored_lines(clean_app, draft.id)
    page = page_text(client.post(f"/portal/lists/{draft.id}",
                                 data={"action": "save", f"amount_{line['club']}": "100000,01"}))
    assert "Beløp: høyst 100\xa0000,00 kroner per medlem og måned." in page
    assert stored_lines(clean_app, draft.id) == before


def test_a_file_with_rows_still_without_amount_is_saved_as_a_draft(client, clean_app, months, draft):
    template = client.get(f"/portal/lists/{draft.id}/template.csv").get_data(as_text=True).splitlines()
    rows = [template[0]] + [";".join(cells[:3] + ["", "", ""]) for cells in (r.split(";") for r in template[1:])]
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": "upload", "file": (io.BytesIO("\n".join(rows).encode()), "liste.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    assert translated(clean_app, "%(count)s lines read from the file.", count=3) in flashes(response)
    assert {amount for amount, _deviation, _comment in stored_lines(clean_app, draft.id).values()} == {None}


# ------------------------------------------------------------------ completeness on approval, line by line


def test_approving_an_incomplete_list_saves_it_and_names_what_each_line_lacks(client, clean_app, months, draft):
    line = ids(months, draft)
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": "approve", f"amount_{line['inside']}": "176,00", f"amount_{line['club']}": "",
        f"amount_{line['apprentice']}": "", f"deviation_{line['apprentice']}": "other",
    })
    assert response.status_code == 200
    page = page_text(response)
    messages = flashes(response)
    assert messages[0] == translated(clean_app, "The draft is saved.")
    assert messages[1].startswith("Listen kan ikke leveres ennå: 3 linjer er ikke fullstendige.")
    errors = dict(re.findall(r'<div class="text-danger small line-error" id="line-error-(\d+)">(.*?)</div>', page))
    assert errors == {
        str(line["inside"]): "Beløp: 176,00 kroner er bare den faste delen fra trekkgrunnlaget; legg til kontingenten "
                             "på 1,1 % av lønnen, eller oppgi et avvik med årsak.",
        str(line["club"]): translated(clean_app, "Amount: give the amount deducted, or a deviation with its reason."),
        str(line["apprentice"]): translated(clean_app, "Comment: a deviation 'other' needs a comment."),
    }
    assert f'aria-describedby="line-error-{line["club"]}"' in page
    with client.application.app_context():
        assert db.session.get(DeductionList, draft.id).status == ListStatus.draft
    member = months.member_ids
    assert stored_lines(clean_app, draft.id)[member["apprentice"]] == (None, "other", None)  # saved as typed


def test_the_fixed_part_alone_is_complete_with_a_deviation_saying_why(app_ctx, months):
    deduction_list = deduction_lists.create_list(months.world.employers["E1"].id, PERIOD, None)
    by_member = {line.member_id: line.id for line in deduction_list.lines}
    member = months.member_ids
    entries = {by_member[member["inside"]]: LineInput(amount="176,00", deviation="unpaid_leave"),
               by_member[member["club"]]: LineInput(amount="250")}
    deduction_lists.approve(deduction_list, None, entries)  # the apprentice's prefilled 42 kr is complete as it is
    stored = db.session.get(DeductionList, deduction_list.id)
    assert stored.status == ListStatus.delivered and stored.total_ore == 176_00 + 250_00 + 42_00


def test_a_supplementary_list_is_not_held_to_the_fixed_part(app_ctx, months):
    employer = months.world.employers["E1"].id
    main = deduction_lists.create_list(employer, PERIOD, None)
    deduction_lists.approve(main, None, {line.id: LineInput(amount="500") for line in main.lines})
    supplementary = deduction_lists.create_list(employer, PERIOD, None)
    assert supplementary.kind == ListKind.supplementary and supplementary.lines == []
    kari = db.session.get(type(main.lines[0].member), months.member_ids["inside"])
    deduction_lists.add_line(supplementary, LineInput(national_id=kari.national_id, amount="176,00"))
    assert deduction_lists.incomplete_lines(supplementary) == {}


def test_an_approval_is_refused_when_the_list_changed_since_it_was_confirmed(app_ctx, months):
    deduction_list = deduction_lists.create_list(months.world.employers["E1"].id, PERIOD, None)
    entries = {line.id: LineInput(amount="300") for line in deduction_list.lines}
    deduction_lists.update_entries(deduction_list, entries)
    with pytest.raises(ListError, match="endret i mellomtiden") as refused:
        deduction_lists.approve(deduction_list, None, expected_total_ore=1)
    assert "900,00" in str(refused.value)
    db.session.rollback()
    assert db.session.get(DeductionList, deduction_list.id).status == ListStatus.draft
    deduction_lists.approve(deduction_list, None, expected_total_ore=900_00)
    assert db.session.get(DeductionList, deduction_list.id).status == ListStatus.delivered


# ------------------------------------------------------------------ same as last month


def test_same_as_last_month_for_the_whole_list_fills_only_lines_without_an_amount(client, clean_app, months, draft):
    line = ids(months, draft)
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": "same_all", f"amount_{line['inside']}": "176,00",  # the fixed part alone: still waiting
        f"amount_{line['club']}": "", f"amount_{line['apprentice']}": "50,00",  # typed: stays
    }, follow_redirects=True)
    assert translated(clean_app, "%(count)s lines have the amount of last month.", count=2) in flashes(response)
    member = months.member_ids
    lines = stored_lines(clean_app, draft.id)
    assert lines[member["inside"]][0] == FEBRUARY["inside"]  # E1's own report, never E2's for the same person
    assert lines[member["inside"]][0] != E2_FEBRUARY
    assert lines[member["club"]][0] == FEBRUARY["club"]
    assert lines[member["apprentice"]][0] == 50_00


def test_same_as_last_month_on_one_line_sets_that_line_only(client, clean_app, months, draft):
    line = ids(months, draft)
    page = page_text(client.get(f"/portal/lists/{draft.id}"))
    assert f'value="same:{line["club"]}"' in page and "Samme som forrige måned (kr 250,00)" in page
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": f"same:{line['club']}", f"amount_{line['inside']}": "176,00", f"amount_{line['club']}": "",
        f"amount_{line['apprentice']}": "40,00"})  # the whole form, as the browser sends it
    assert response.headers["Location"].endswith(f"#line-{line['club']}")
    member = months.member_ids
    lines = stored_lines(clean_app, draft.id)
    assert lines[member["club"]][0] == FEBRUARY["club"]
    assert lines[member["inside"]][0] == 176_00  # untouched
    assert lines[member["apprentice"]][0] == 40_00  # what was typed meanwhile is saved too


def test_only_delivered_lists_of_the_month_before_count(app_ctx, months):
    february = db.session.get(DeductionList, months.february_list_id)
    deduction_lists.reopen(february, None, reason="test")
    march = deduction_lists.create_list(months.world.employers["E1"].id, PERIOD, None)
    hints = deduction_lists.line_hints(march)
    assert {hint.last_month_ore for hint in hints.values()} == {None}
    assert deduction_lists.same_as_last_month(march, {}) == 0


def test_main_and_supplementary_lists_of_last_month_add_up(app_ctx, months):
    employer = months.world.employers["E1"].id
    supplementary = deduction_lists.create_list(employer, "2026-02", None)
    kari = months.member_ids["inside"]
    from webapp.models import Member

    deduction_lists.add_line(supplementary, LineInput(national_id=db.session.get(Member, kari).national_id,
                                                      amount="10"))
    deduction_lists.approve(supplementary, None)
    march = deduction_lists.create_list(employer, PERIOD, None)
    hints = deduction_lists.line_hints(march)
    by_member = {line.member_id: hints[line.id] for line in march.lines}
    assert by_member[kari].last_month_ore == FEBRUARY["inside"] + 10_00


def test_no_button_without_an_amount_last_month(client, clean_app, months):
    """March's first list of E2: nothing reported by E2 for its member in February... except by deliver_list for
    Kari, who is not on E2's basis: the E2 contact sees no "same as last month" for anyone."""
    from tests.helpers import login

    login(client, "20000002")
    client.post(f"/portal/lists/new/{PERIOD}")
    with clean_app.app_context():
        e2_draft = db.session.scalars(select(DeductionList).where(
            DeductionList.employer_id == months.world.employers["E2"].id, DeductionList.period == PERIOD)).one()
        list_id = e2_draft.id
        db.session.remove()
    page = page_text(client.get(f"/portal/lists/{list_id}"))
    assert 'value="same:' not in page and 'id="same-all"' not in page
