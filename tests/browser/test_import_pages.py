"""The office's invoice-run and file-import screens in the browser: a Nets sample file uploaded through the form
lands on its job page with the counts; a file of the wrong kind is refused under its field. axe-core on each."""

from __future__ import annotations

from tests.browser.accessibility import axe_context, axe_script, serious_violations
from tests.browser.test_pages import log_in
from tests.payment_helpers import SAMPLE_OCR


def test_office_uploads_a_bank_file_and_sees_the_import_on_its_job_page(browser, live_server, clean_app, world,
                                                                         tmp_path):
    axe_script()  # skip before anything when axe-core is missing
    context = axe_context(browser, live_server)
    page = context.new_page()
    log_in(page, world.logins["office"], "office")

    page.goto("/invoiceruns/")
    assert "Fakturakjøring" in page.inner_text("body")
    assert serious_violations(page) == []

    page.goto("/imports/")
    assert serious_violations(page) == []
    wrong = tmp_path / "postnumre.txt"
    wrong.write_text("Postnummer\tPoststed\tKommunenummer\tKommunenavn\tKategori\n", encoding="utf-8")
    page.set_input_files("#bank_file", str(wrong))
    page.click("#bank-file-form button[type=submit]")
    page.wait_for_selector("#bank_file-error")
    assert "Fil: postnumre.txt er ikke en bankfil fra Nets" in page.inner_text("#bank_file-error")
    assert page.get_attribute("#bank_file", "aria-invalid") == "true"
    assert serious_violations(page) == []

    page.set_input_files("#bank_file", SAMPLE_OCR)
    page.click("#bank-file-form button[type=submit]")
    page.wait_for_url("**/jobs/*")
    page.wait_for_function("document.body.innerText.includes('Importert 20 betalinger; 20 ikke matchet')")
    # (The job page's own axe check is tests/browser/test_jobs_page.py's.)
    context.close()
