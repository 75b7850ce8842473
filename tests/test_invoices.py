"""Invoice generation, credit notes and write-offs: the amounts a member is billed, to the øre."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from tests.billing_helpers import (
    CONTENTS_ORE,
    DEFAULT_ORDINARY_MONTH_ORE,
    OTHERS,
    RATES_FROM,
    TRAVEL_ORE,
    add_direct_rates,
    direct_member,
    employ,
    mandate,
)
from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import AuditEntry, AvtaleGiroMandate, DirectDuesRate, Invoice, InvoiceAdjustment, Member
from webapp.models.choices import InvoiceStatus, MemberCategory, PaymentMethod
from webapp.services import invoice_ledger, invoices, kid
from webapp.services.direct_dues import DirectDuesError
from webapp.services.invoices import InvoiceError
from webapp.services.periods import Month, Quarter

Q1 = Quarter(2027, 1)
ISSUED = dt.date(2026, 12, 10)
# The world's members without employment pay directly: lf1_direct and the four officers.
WORLD_DIRECT = 5


@pytest.fixture()
def rates(app_ctx):
    add_initial_rate()
    return add_direct_rates()


def invoices_of(member_id: int) -> list[Invoice]:
    db.session.expire_all()
    return db.session.scalars(select(Invoice).where(Invoice.member_id == member_id)
                              .order_by(Invoice.first_month)).all()


def the_invoice(member_id: int) -> Invoice:
    [invoice] = invoices_of(member_id)
    return invoice


def invoice_count() -> int:
    return db.session.scalar(select(func.count(Invoice.id)))


# ------------------------------------------------------------------ amounts


def test_an_ordinary_member_pays_the_default_band_and_both_insurances(rates, world):
    result = invoices.generate(Q1, today=ISSUED)
    invoice = the_invoice(world.members["lf1_direct"].id)
    assert (invoice.dues_ore, invoice.contents_insurance_ore, invoice.travel_insurance_ore) == (
        3 * 25000, 3 * CONTENTS_ORE, 3 * TRAVEL_ORE)
    assert invoice.amount_ore == 3 * DEFAULT_ORDINARY_MONTH_ORE == 127800
    assert (invoice.period, invoice.first_month, invoice.month_count) == ("2027-Q1", "2027-01", 3)
    assert invoice.method == PaymentMethod.invoice and invoice.status == InvoiceStatus.open
    assert invoice.outstanding_ore == 127800 and invoice.issued_on == ISSUED
    assert result.created == WORLD_DIRECT and result.amount_ore == WORLD_DIRECT * 127800
    assert result.summary() == ("2027-Q1: 5 invoices made (5 invoices, 0 AvtaleGiro claims) for 5 members, "
                                "15 member-months, 6\u00a0390,00 kr")


def test_each_category_and_band_is_billed_by_the_rates(rates, world):
    low = direct_member(world, "Lav", "Inntekt", income_band_id=rates["lav"].id, travel_insurance=False)
    high = direct_member(world, "Høy", "Inntekt", income_band_id=rates["hoy"].id, contents_insurance=False)
    others = {category: direct_member(world, "Kari", category.name.capitalize(), category=category)
              for category in (MemberCategory.student, MemberCategory.retired, MemberCategory.unemployed,
                               MemberCategory.apprentice)}
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    components = {m.id: (i.dues_ore, i.contents_insurance_ore, i.travel_insurance_ore, i.amount_ore)
                  for m in (low, high, *others.values()) for i in invoices_of(m.id)}
    assert components[low.id] == (45000, 25500, 0, 70500)  # travel insurance opted out
    assert components[high.id] == (105000, 0, 27300, 132300)
    # Students, retired, unemployed and apprentices pay their category's amount and no insurances.
    assert components[others[MemberCategory.student].id] == (15000, 0, 0, 15000)
    assert components[others[MemberCategory.retired].id] == (30000, 0, 0, 30000)
    assert components[others[MemberCategory.unemployed].id] == (24000, 0, 0, 24000)
    assert components[others[MemberCategory.apprentice].id] == (12600, 0, 0, 12600)


def test_a_new_rate_from_february_bills_each_month_by_its_own_rate(rates, world):
    db.session.add(DirectDuesRate(valid_from=dt.date(2027, 2, 1), category=MemberCategory.ordinary,
                                  income_band_id=rates["middels"].id, monthly_ore=26000))
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    invoice = the_invoice(world.members["lf1_direct"].id)
    assert invoice.dues_ore == 25000 + 26000 + 26000
    assert invoice.amount_ore == 77000 + 3 * (CONTENTS_ORE + TRAVEL_ORE)


def test_the_kid_names_the_member_and_first_month_and_the_due_date_follows_the_settings(rates, world):
    invoices.generate(Q1, today=ISSUED)
    member = world.members["lf1_direct"]
    invoice = the_invoice(member.id)
    assert invoice.kid == kid.member_kid_for(member.member_no, Month(2027, 1)) == "9027500000427012"
    parsed = kid.parse(invoice.kid)
    assert (parsed.kind, parsed.number, parsed.month) == ("member", member.member_no.zfill(8), Month(2027, 1))
    # Issued before the period: due 14 days after the period's first day.
    assert invoice.due_date == dt.date(2027, 1, 15)


def test_an_invoice_issued_inside_its_period_is_due_the_settings_days_after_issue(rates, world, app_ctx):
    app_ctx.config["INVOICE_DUE_DAYS"] = 10
    try:
        invoices.generate(Q1, today=dt.date(2027, 1, 20))
    finally:
        app_ctx.config["INVOICE_DUE_DAYS"] = 14
    assert the_invoice(world.members["lf1_direct"].id).due_date == dt.date(2027, 1, 30)


# ------------------------------------------------------------------ who is billed for which months


def test_members_on_payroll_deduction_get_no_invoice(rates, world):
    invoices.generate(Q1, today=ISSUED)
    for key in ("inside", "club", "outside"):
        assert invoices_of(world.members[key].id) == []


def test_a_member_leaving_the_payroll_in_january_is_billed_from_february(rates, world):
    member = direct_member(world, "Jon", "Sluttet")
    employ(world, member, start=dt.date(2019, 1, 1), end=dt.date(2027, 1, 31))
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    invoice = the_invoice(member.id)
    assert (invoice.period, invoice.first_month, invoice.month_count) == ("2027-Q1", "2027-02", 2)
    assert invoice.kid == kid.member_kid_for(member.member_no, Month(2027, 2))
    assert invoice.amount_ore == 2 * DEFAULT_ORDINARY_MONTH_ORE
    assert invoice.due_date == dt.date(2027, 2, 15)


def test_joins_and_leaves_are_billed_by_the_usual_periodization(rates, world):
    leaving = direct_member(world, "Lene", "Går", left=dt.date(2027, 2, 10))  # counts to the end of February
    joining = direct_member(world, "Jo", "Kommer", joined=dt.date(2027, 2, 15))  # counts from March
    gone = direct_member(world, "Geir", "Borte", left=dt.date(2026, 12, 31))
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    assert [(i.first_month, i.month_count) for i in invoices_of(leaving.id)] == [("2027-01", 2)]
    assert [(i.first_month, i.month_count) for i in invoices_of(joining.id)] == [("2027-03", 1)]
    assert invoices_of(gone.id) == []


def test_a_gap_in_direct_payment_makes_two_invoices(rates, world):
    member = direct_member(world, "Gry", "Hull")
    employ(world, member, start=dt.date(2027, 2, 1), end=dt.date(2027, 2, 20))  # February on the payroll
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    assert [(i.first_month, i.month_count, i.period) for i in invoices_of(member.id)] == [
        ("2027-01", 1, "2027-Q1"), ("2027-03", 1, "2027-Q1")]


def test_avtalegiro_payers_get_one_claim_row_per_month_and_no_invoice(rates, world, app_ctx):
    member = direct_member(world, "Aud", "Giro")
    mandate(member, dt.date(2026, 11, 2))
    db.session.commit()
    result = invoices.generate(Q1, today=ISSUED)
    rows = invoices_of(member.id)
    assert [(r.period, r.first_month, r.month_count, r.method) for r in rows] == [
        (f"2027-0{n}", f"2027-0{n}", 1, PaymentMethod.avtalegiro) for n in (1, 2, 3)]
    assert [r.due_date for r in rows] == [dt.date(2027, n, 20) for n in (1, 2, 3)]
    assert [r.amount_ore for r in rows] == [DEFAULT_ORDINARY_MONTH_ORE] * 3
    assert [r.kid for r in rows] == [kid.member_kid_for(member.member_no, Month(2027, n)) for n in (1, 2, 3)]
    assert (result.created, result.avtalegiro) == (WORLD_DIRECT + 3, 3)


def test_the_claims_of_one_month_for_the_claims_file(rates, world):
    member = direct_member(world, "Aud", "Giro")
    mandate(member, dt.date(2026, 11, 2))
    db.session.commit()
    result = invoices.generate_avtalegiro_month(Month(2027, 1), today=ISSUED)
    assert (result.created, result.avtalegiro) == (1, 1)
    assert [(r.first_month, r.method) for r in invoices_of(member.id)] == [("2027-01", PaymentMethod.avtalegiro)]
    assert invoices_of(world.members["lf1_direct"].id) == []  # invoice payers are not billed by it
    assert invoices.generate_avtalegiro_month(Month(2027, 1), today=ISSUED).created == 0


def test_a_member_month_is_billed_once_when_the_method_changes(rates, world):
    """January was claimed by AvtaleGiro; the mandate is deleted; the quarter's invoice bills February and March."""
    member = direct_member(world, "Mona", "Bytter")
    mandate(member, dt.date(2026, 11, 2))
    db.session.commit()
    invoices.generate_avtalegiro_month(Month(2027, 1), today=ISSUED)
    db.session.scalars(select(AvtaleGiroMandate)).one().active = False
    db.session.commit()
    result = invoices.generate(Q1, today=dt.date(2027, 1, 5))
    assert [(i.first_month, i.month_count, i.method) for i in invoices_of(member.id)] == [
        ("2027-01", 1, PaymentMethod.avtalegiro), ("2027-02", 2, PaymentMethod.invoice)]
    assert result.months_already_billed == 1


def test_monthly_billing_by_the_setting(rates, world, app_ctx):
    app_ctx.config["DIRECT_BILLING_PERIOD"] = "month"
    try:
        invoices.generate(Q1, today=ISSUED)
    finally:
        app_ctx.config["DIRECT_BILLING_PERIOD"] = "quarter"
    assert [(i.period, i.first_month, i.month_count, i.method) for i in invoices_of(world.members["lf1_direct"].id)] \
        == [(f"2027-0{n}", f"2027-0{n}", 1, PaymentMethod.invoice) for n in (1, 2, 3)]


def test_a_bad_billing_period_setting_is_refused(rates, world, app_ctx):
    app_ctx.config["DIRECT_BILLING_PERIOD"] = "week"
    try:
        with pytest.raises(InvoiceError, match="DIRECT_BILLING_PERIOD: 'week' is not one of quarter, month"):
            invoices.generate(Q1, today=ISSUED)
    finally:
        app_ctx.config["DIRECT_BILLING_PERIOD"] = "quarter"
    assert invoice_count() == 0


def test_what_a_member_has_to_their_credit_pays_the_next_invoice(rates, world):
    """An overpayment of the first quarter stays as credit; the second quarter's invoice takes it at once."""
    from tests.payment_helpers import ocr
    from webapp.services import payments

    member = world.members["lf1_direct"]
    invoices.generate(Q1, today=ISSUED)
    first = the_invoice(member.id)
    payments.import_file("ocr-1.txt", ocr([(first.kid, 200000)]), "test")
    assert invoice_ledger.member_credit_ore(member.id) == 200000 - 127800
    result = invoices.generate(Quarter(2027, 2), today=dt.date(2027, 3, 10))
    second = invoices_of(member.id)[1]
    assert (second.paid_ore, second.outstanding_ore, second.status) == (72200, 55600, InvoiceStatus.partly_paid)
    assert invoice_ledger.member_credit_ore(member.id) == 0
    assert result.credit_applied_ore == 72200
    assert "722,00 kr of the members' credit applied to them" in result.summary()


def test_a_payment_that_came_before_its_invoice_is_matched_when_the_invoice_is_made(rates, world):
    """A member who pays with next quarter's KID before the invoice exists waits in the queue, then is matched."""
    from tests.payment_helpers import ocr
    from webapp.models import Payment
    from webapp.services import payments

    member = world.members["lf1_direct"]
    early_kid = kid.member_kid_for(member.member_no, Q1.months[0])
    payments.import_file("tidlig.txt", ocr([(early_kid, 127800)]), "test")
    waiting = db.session.scalars(select(Payment).where(Payment.kid == early_kid)).one()
    assert waiting.member_id is None

    result = invoices.generate(Q1, today=ISSUED)

    assert result.payments_matched == 1 and "1 waiting payments matched to them" in result.summary()
    invoice = the_invoice(member.id)
    assert (invoice.kid, invoice.paid_ore, invoice.status) == (early_kid, 127800, InvoiceStatus.paid)


# ------------------------------------------------------------------ idempotence and refresh


def test_a_second_run_makes_nothing_and_a_late_joiner_is_billed_for_what_is_open(rates, world):
    invoices.generate(Q1, today=ISSUED)
    again = invoices.generate(Q1, today=ISSUED)
    assert again.created == 0 and invoice_count() == WORLD_DIRECT
    assert again.summary() == "2027-Q1: nothing to do, 15 member-months are billed already"
    late = direct_member(world, "Sen", "Innmeldt", joined=dt.date(2027, 1, 20))
    db.session.commit()
    third = invoices.generate(Q1, today=dt.date(2027, 1, 25))
    assert third.created == 1
    assert [(i.first_month, i.month_count) for i in invoices_of(late.id)] == [("2027-02", 2)]


def test_refresh_recomputes_unsent_invoices_only(rates, world):
    invoices.generate(Q1, today=ISSUED)
    direct = world.members["lf1_direct"].id
    sent = world.members["leader"].id
    credited = world.members["treasurer"].id
    now_employed = world.members["member_data_admin"].id
    db.session.get(Member, direct).income_band_id = rates["lav"].id
    db.session.get(Member, sent).income_band_id = rates["lav"].id
    the_invoice(sent).sent_at = dt.datetime(2026, 12, 11, 9)
    db.session.commit()
    invoices.credit_note(the_invoice(credited).id, 1000, "Feil sats", None)
    employ(world, db.session.get(Member, now_employed), start=dt.date(2026, 1, 1))
    db.session.commit()

    result = invoices.generate(Q1, refresh=True, today=dt.date(2026, 12, 12))
    assert the_invoice(direct).amount_ore == 3 * (15000 + CONTENTS_ORE + TRAVEL_ORE)
    assert the_invoice(direct).issued_on == dt.date(2026, 12, 12)
    assert the_invoice(sent).amount_ore == 127800  # sent: left as it was
    assert the_invoice(credited).credited_ore == 1000
    assert invoices_of(now_employed) == []  # on the payroll now: the unsent invoice is withdrawn
    assert (result.refreshed, result.withdrawn, result.refused_refresh) == (2, 1, 2)
    assert "2 unsent invoices recomputed, 1 withdrawn" in result.summary()
    assert "2 not recomputed because they are sent, paid or adjusted" in result.summary()


def test_a_month_without_a_rate_refuses_the_whole_run(rates, world):
    direct_member(world, "Rolf", "Pensjonist", category=MemberCategory.retired)
    db.session.execute(DirectDuesRate.__table__.delete().where(DirectDuesRate.category == MemberCategory.retired))
    db.session.commit()
    with pytest.raises(DirectDuesError,
                       match="no direct dues rate for retired members is in force in 2027-01"):
        invoices.generate(Q1, today=ISSUED)
    assert invoice_count() == 0
    # With the rate back, the next run on the same connection bills every direct payer (the refused run's
    # temporary table of candidates is replaced, not in the way).
    db.session.add(DirectDuesRate(valid_from=RATES_FROM, category=MemberCategory.retired,
                                  monthly_ore=OTHERS[MemberCategory.retired]))
    db.session.commit()
    assert invoices.generate(Q1, today=ISSUED).members == WORLD_DIRECT + 1


def test_a_run_that_fails_after_its_insert_leaves_no_invoice(rates, world, monkeypatch):
    """The run's INSERT ... SELECT begins with its WITH clauses; on SQLite that statement too must open the
    transaction (the driver opens one only before a statement that begins with INSERT), or a failure after it
    would leave the invoices behind."""
    def fail(_members):
        raise RuntimeError("the credit step failed")

    monkeypatch.setattr(invoices, "_apply_member_credit", fail)
    with pytest.raises(RuntimeError, match="the credit step failed"):
        invoices.generate(Q1, today=ISSUED)
    assert invoice_count() == 0


def test_a_rate_that_starts_in_the_middle_of_the_quarter_refuses_the_months_before(app_ctx, world):
    add_initial_rate()
    add_direct_rates(valid_from=dt.date(2027, 2, 1))
    with pytest.raises(DirectDuesError, match=r"income band middels\) is in force in 2027-01"):
        invoices.generate(Q1, today=ISSUED)
    assert invoice_count() == 0


# ------------------------------------------------------------------ credit notes and write-offs


@pytest.fixture()
def invoice_id(rates, world) -> int:
    invoices.generate(Q1, today=ISSUED)
    return the_invoice(world.members["lf1_direct"].id).id


def test_a_credit_note_reduces_what_is_owed_and_is_audited(invoice_id, world):
    user_id = db.session.scalar(select(User.id).where(User.username == world.logins["office"]))
    invoices.credit_note(invoice_id, 20000, "  Dobbelt fakturert januar ", user_id)
    invoice = db.session.get(Invoice, invoice_id)
    assert (invoice.credited_ore, invoice.outstanding_ore, invoice.status) == (20000, 107800, InvoiceStatus.open)
    [adjustment] = invoice.adjustments
    assert (adjustment.amount_ore, adjustment.reason, adjustment.created_by_id) == (
        20000, "Dobbelt fakturert januar", user_id)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "invoice_credit_note")).all()
    assert (entry.object_id, entry.member_id) == (invoice_id, world.members["lf1_direct"].id)
    assert json.loads(entry.details)["amount_ore"] == 20000


def test_crediting_everything_makes_the_invoice_credited(invoice_id):
    invoices.credit_note(invoice_id, 127800, "Utmeldt før perioden", None)
    invoice = db.session.get(Invoice, invoice_id)
    assert (invoice.status, invoice.outstanding_ore) == (InvoiceStatus.credited, 0)


def test_a_write_off_of_everything_left(invoice_id):
    invoices.credit_note(invoice_id, 7800, "Rabatt", None)
    invoices.write_off(invoice_id, None, "Ikke mulig å innkreve", None)
    invoice = db.session.get(Invoice, invoice_id)
    assert (invoice.written_off_ore, invoice.outstanding_ore, invoice.status) == (
        120000, 0, InvoiceStatus.written_off)
    with pytest.raises(InvoiceError, match="det er ikke noe igjen å betale"):
        invoices.write_off(invoice_id, None, "Igjen", None)


@pytest.mark.parametrize("amount, message", [
    (0, "Beløp: må være mer enn 0."),
    (-100, "Beløp: må være mer enn 0."),
    (127801, "Beløp: høyst det som gjenstår av fakturaen, 1\u00a0278,00 kr."),
    (2**63, "Beløp: må være et helt antall øre."),
    (12.5, "Beløp: må være et helt antall øre."),
    ("100", "Beløp: må være et helt antall øre."),
    (True, "Beløp: må være et helt antall øre."),
])
def test_bad_amounts_are_refused_and_nothing_is_written(invoice_id, amount, message):
    with pytest.raises(InvoiceError) as refused:
        invoices.credit_note(invoice_id, amount, "Grunn", None)
    assert str(refused.value) == message
    assert db.session.scalar(select(func.count(InvoiceAdjustment.id))) == 0
    assert db.session.get(Invoice, invoice_id).credited_ore == 0


@pytest.mark.parametrize("reason, message", [
    ("", "Begrunnelse: må fylles ut."),
    ("   ", "Begrunnelse: må fylles ut."),
    ("x" * 501, "Begrunnelse: høyst 500 tegn."),
    ("nul\x00byte", "Begrunnelse: inneholder et tegn som ikke er tillatt (NUL)."),
])
def test_a_reason_is_required_and_bounded(invoice_id, reason, message):
    with pytest.raises(InvoiceError) as refused:
        invoices.write_off(invoice_id, 100, reason, None)
    assert str(refused.value) == message
    assert db.session.scalar(select(func.count(InvoiceAdjustment.id))) == 0


def test_an_unknown_invoice_is_refused(rates):
    with pytest.raises(InvoiceError, match=r"^Faktura: fakturaen finnes ikke\.$"):
        invoices.credit_note(424242, 100, "Grunn", None)


def test_the_ledger_rule_holds_after_adjustments(invoice_id):
    invoices.credit_note(invoice_id, 100, "a", None)
    invoices.write_off(invoice_id, 200, "b", None)
    invoice = db.session.get(Invoice, invoice_id)
    raw = dict(db.session.execute(select(InvoiceAdjustment.kind, func.sum(InvoiceAdjustment.amount_ore))
                                  .where(InvoiceAdjustment.invoice_id == invoice_id)
                                  .group_by(InvoiceAdjustment.kind)).all())
    assert invoice.outstanding_ore == invoice.amount_ore - sum(raw.values()) == 127500
    assert invoice_ledger.refresh([invoice_id]) == 1


# ------------------------------------------------------------------ the command line


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["invoices", *args])


def test_cli_generate_prints_the_summary_and_a_second_run_does_nothing(rates, world, app_ctx):
    today = dt.date.today()
    quarter = Month.of(today).quarter
    first = cli(app_ctx, "generate", str(quarter))
    assert first.exit_code == 0, first.output
    assert f"{quarter}: 5 invoices made (5 invoices, 0 AvtaleGiro claims) for 5 members" in first.output
    second = cli(app_ctx, "generate", str(quarter))
    assert second.exit_code == 0 and "nothing to do" in second.output
    refreshed = cli(app_ctx, "generate", str(quarter), "--refresh")
    assert refreshed.exit_code == 0 and "5 unsent invoices recomputed, 0 withdrawn" in refreshed.output


@pytest.mark.parametrize("argument, form", [
    ("2027-Q5", "YYYY-Qn"), ("2027Q1", "YYYY-Qn"), ("1999-Q1", "YYYY-Qn"), ("2027-13", "YYYY-MM"), ("", "YYYY-Qn"),
])
def test_cli_generate_refuses_a_bad_period_with_its_form(rates, world, app_ctx, argument, form):
    result = cli(app_ctx, "generate", argument)
    assert result.exit_code == 2
    assert form in result.output
    assert invoice_count() == 0


def test_cli_generate_without_rates_says_which_month(app_ctx, world):
    add_initial_rate()
    result = cli(app_ctx, "generate", str(Month.of(dt.date.today()).quarter))
    assert result.exit_code == 2
    assert "invoices generate: period: no direct dues rate for ordinary members" in result.output
    assert invoice_count() == 0


def test_without_a_default_band_an_undeclared_ordinary_member_is_refused_by_name_of_the_rule(rates, world):
    db.session.get(type(rates["middels"]), rates["middels"].id).is_default = False
    db.session.commit()
    with pytest.raises(DirectDuesError, match="no income band declared, and none is marked as the default"):
        invoices.generate(Q1, today=ISSUED)
    assert invoice_count() == 0
