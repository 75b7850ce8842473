"""The refund member list as a reportlab table laid out page by page (webapp/services/table_pdf.py): the same rows
as the old list's query, every row in the PDF, headings and footers on every page, memory that does not grow with
the rows, and the list as CSV and XLSX beside the PDF (the job's result files)."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from itertools import islice

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.document_helpers import job_of
from tests.helpers import login_as
from tests.test_document_jobs import approved_world  # noqa: F401 - a fixture
from tests.test_refunds import Q1, add_member, make_policy, pdf_text
from webapp.extensions import db
from webapp.models import OrgUnit, RefundUnit
from webapp.models.choices import MemberCategory
from webapp.models.outreach import JobFile
from webapp.services import refunds, table_pdf
from webapp.services.table_pdf import Column, paragraph, render_table_pdf, sections_of

COLUMNS = [Column("Medlemsnummer", 0.19), Column("Navn", 0.51), Column("Kategori", 0.18),
           Column("Måneder", 0.12, "RIGHT")]


def old_rows(refund_unit: RefundUnit) -> list[tuple]:
    """The list's rows as the xhtml2pdf list had them: refunds.counted_members, the categories by label."""
    labels = {category: str(category.label) for category in MemberCategory}
    return [(f"{m.unit_code} {m.unit_name}", m.member_no, m.name, labels[m.category], m.months)
            for m in refunds.counted_members(refund_unit)]


def old_groups(refund_unit: RefundUnit) -> list[dict]:
    groups: list[dict] = []
    for member in refunds.counted_members(refund_unit):
        if not groups or groups[-1]["code"] != member.unit_code:
            groups.append({"code": member.unit_code, "name": member.unit_name, "count": 0, "months": 0})
        groups[-1]["count"] += 1
        groups[-1]["months"] += member.months
    return groups


def approved_units(world) -> list[RefundUnit]:
    """The test world with 40 more members in the club and the branches, 2026-Q1 calculated and approved."""
    for number in range(40):
        unit = world.units[("KL1", "AV1", "AV2")[number % 3]]
        add_member(db.session.get(OrgUnit, unit.id), f"Åse{number:02d}", f"Ærlig-Østby{number % 7}")
    db.session.commit()
    make_policy()
    run = refunds.calculate(Q1, pool_ore=5000_00)
    refunds.approve(Q1)
    return list(db.session.scalars(select(RefundUnit).where(RefundUnit.run_id == run.id,
                                                            RefundUnit.receives_refunds.is_(True))))


def test_the_streamed_rows_and_groups_are_the_old_querys(app_ctx, world):
    from reports.refunds import member_groups, member_rows, render_member_list

    units = approved_units(world)
    assert sum(len(old_rows(unit)) for unit in units) > 80
    for unit in units:
        assert list(member_rows(unit)) == old_rows(unit), unit.code
        assert member_groups(unit) == old_groups(unit), unit.code
    # Every member of the largest list is a line of the PDF: number, name, category and months, in list order.
    largest = max(units, key=lambda unit: len(old_rows(unit)))
    text = pdf_text(render_member_list(largest))
    lines = [f"{number} {name} {category} {months}" for _, number, name, category, months in old_rows(largest)]
    positions = [text.index(line) for line in lines]
    assert positions == sorted(positions)
    for group in old_groups(largest):
        assert f"{group['code']} {group['name']} ({group['count']} medlemmer, {group['months']} medlemsmåneder)" in text
    assert f"{len(lines)} medlemmer" in text and "periodi" in text and "taushetsplikt" in text
    assert "Per medlem: medlemsnummer, navn, kategori og antall måneder som er talt." in text.replace("\n", " ")


LONG_NAME = "Østensen-Bjørnstad Haugen Kristiansen, Anne-Marie Kristine Elisabeth Margrethe Ingrid Sofie"


def synthetic_rows(count: int):
    for number in range(count):
        name = f"Nordmann{number}, Kari Æsøy" if number % 500 else f"{LONG_NAME} {number}"
        yield (f"{100000 + number}", name, "Ordinær", str(number % 3 + 1))


def render(count: int, groups: int = 3) -> bytes:
    headings = [(f"AV{number} Avdeling {number}", count // groups) for number in range(groups)]
    return render_table_pdf("Refusjon liste", [paragraph("Refusjon liste", "title")], COLUMNS,
                            sections_of(headings, synthetic_rows(count)), "LO · Refusjon liste · AV1", "Ingen")


def test_every_page_has_the_column_headings_rows_and_a_footer_with_the_page_count(app_ctx):
    reader = PdfReader(io.BytesIO(render(3000)))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 40
    numbers = [int(number) for text in pages for number in re.findall(r"^(1\d{5}) ", text, re.MULTILINE)]
    assert numbers == list(range(100000, 103000))  # every row once, in order, none lost at a page break
    for number, text in enumerate(pages, start=1):
        assert f"LO · Refusjon liste · AV1 · {number}/\n{len(pages)}" in text, text[:200]
        assert "Navn Kategori Måneder" in text  # the headings row on every page
        assert re.search(r"^1\d{5} ", text, re.MULTILINE)  # and rows: a section's heading never ends a page
    # A name wider than its column wraps over lines of its row: all of it is there, on more than one line.
    [wrapped] = re.findall(r"^100500 (.+?) 500\n", "\n".join(pages), re.MULTILINE | re.DOTALL)
    assert "\n" in wrapped and wrapped.split() == LONG_NAME.split()


def test_rows_are_read_as_the_pages_need_them(app_ctx, monkeypatch):
    """When a page is finished, no more rows have been read than that page and the next can hold."""
    pulled, seen_at_page_end = [0], []

    def counted(rows):
        for row in rows:
            pulled[0] += 1
            yield row

    real_show_page = table_pdf._PageCountCanvas.showPage
    monkeypatch.setattr(table_pdf._PageCountCanvas, "showPage",
                        lambda canvas: seen_at_page_end.append(pulled[0]) or real_show_page(canvas))
    sections = sections_of([("AV1 Avdeling", 2000)], counted(synthetic_rows(2000)))
    render_table_pdf("Refusjon liste", [], COLUMNS, sections, "LO", "Ingen")
    assert len(seen_at_page_end) > 30
    for page, rows_read in enumerate(seen_at_page_end, start=1):
        assert rows_read <= (page + 1) * 60, (page, rows_read)


def test_memory_grows_with_the_compressed_pdf_only(app_ctx):
    """Finished pages are kept compressed: 20,000 more rows cost about as much memory as their part of the PDF
    (its compressed pages, each page's objects, the file written at the end), not the rows or pages as text."""

    def peak(count: int) -> int:
        render(100)  # fonts registered, imports done
        tracemalloc.start()
        render(count)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    assert peak(25_000) - peak(5_000) < 20_000 * 300


def test_an_empty_list_says_so(app_ctx):
    pdf = render_table_pdf("Refusjon liste", [paragraph("Refusjon liste", "title")], COLUMNS, [], "LO",
                           "Ingen ble talt.")
    assert "Ingen ble talt." in pdf_text(pdf)


def test_csv_and_xlsx_have_the_rows_with_norwegian_headings(app_ctx, world):
    from reports.refunds import list_filename, member_list_files

    largest = max(approved_units(world), key=lambda unit: len(old_rows(unit)))
    files = {name.rsplit(".", 1)[1]: (name, content_type, data)
             for name, content_type, data in member_list_files(largest)}
    assert files["csv"][0] == list_filename(largest, "csv") == f"Refusjon_liste_2026-Q1_{largest.code}.csv"
    headings = ["Hjemmeenhet", "Medlemsnummer", "Navn", "Kategori", "Måneder"]
    text = files["csv"][2].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == headings
    assert rows[1:] == [[str(value) for value in row] for row in old_rows(largest)]
    sheet = load_workbook(io.BytesIO(files["xlsx"][2])).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == headings and [tuple(row) for row in values[1:]] == old_rows(largest)


def test_the_list_job_leaves_the_csv_and_xlsx_beside_the_pdf(client, world, approved_world, dbs):  # noqa: F811
    unit_id = approved_world["2026-Q1", "AV1"]
    login_as(client, world.logins["treasurer"], "treasurer")
    state = job_of(client, client.get(f"/refunds/{unit_id}/list.pdf"))
    assert state["status"] == "done" and state["done"] == state["total"] == 3
    names = sorted(dbs.scalars(select(JobFile.filename).where(JobFile.job_id == state["id"])))
    assert names == ["Refusjon_liste_2026-Q1_AV1.csv", "Refusjon_liste_2026-Q1_AV1.xlsx"]
    page = client.get(f"/jobs/{state['id']}").get_data(as_text=True)
    assert "Refusjon_liste_2026-Q1_AV1.csv" in page and "Refusjon_liste_2026-Q1_AV1.xlsx" in page
    [csv_file] = dbs.scalars(select(JobFile).where(JobFile.job_id == state["id"], JobFile.filename.like("%.csv")))
    downloaded = client.get(f"/jobs/{state['id']}/files/{csv_file.id}")
    assert downloaded.status_code == 200 and "Avdeling Øst" in downloaded.get_data().decode("utf-8-sig")


def test_sections_take_their_rows_from_one_stream():
    rows = iter(range(10))
    first, second = sections_of([("a", 4), ("b", 6)], rows)
    assert list(islice(first.rows, 10)) == [0, 1, 2, 3] and list(second.rows) == [4, 5, 6, 7, 8, 9]


def test_the_list_files_link_gives_the_csv_and_xlsx_of_a_kept_list_too(client, world, approved_world, dbs):  # noqa: F811
    """Once the PDF is kept, list.pdf answers it at once; list-files still hands the CSV and XLSX over by a job."""
    unit_id = approved_world["2026-Q1", "AV1"]
    login_as(client, world.logins["treasurer"], "treasurer")
    job_of(client, client.get(f"/refunds/{unit_id}/list.pdf"))
    assert client.get(f"/refunds/{unit_id}/list.pdf").mimetype == "application/pdf"  # kept
    state = job_of(client, client.get(f"/refunds/{unit_id}/list-files"))
    assert state["status"] == "done"
    names = sorted(dbs.scalars(select(JobFile.filename).where(JobFile.job_id == state["id"])))
    assert names == ["Refusjon_liste_2026-Q1_AV1.csv", "Refusjon_liste_2026-Q1_AV1.xlsx"]


def test_the_list_files_of_a_draft_come_as_csv_at_once_and_never_outside_the_scope(client, world, approved_world):  # noqa: F811
    login_as(client, world.logins["office"], "office")
    draft = client.get(f"/refunds/{approved_world['2026-Q2', 'AV1']}/list-files")
    assert draft.status_code == 200 and draft.mimetype == "text/csv"
    assert draft.headers["Content-Disposition"].endswith('filename="Refusjon_liste_2026-Q2_AV1.csv"')
    assert draft.get_data().decode("utf-8-sig").startswith("Hjemmeenhet;Medlemsnummer;Navn;Kategori;Måneder")
    client.get("/logout/")
    login_as(client, world.logins["leader"], "leader")  # AV1's leader
    for code in ("AV2", "LF1"):
        assert client.get(f"/refunds/{approved_world['2026-Q1', code]}/list-files").status_code == 404
    assert client.get(f"/refunds/{approved_world['2026-Q2', 'AV1']}/list-files").status_code == 404  # a draft
