"""Sharing in a real browser: a tenant shares two documents with an agency; the agency opens the
link and downloads the whole file as a PDF watermarked with its name; the tenant sees that
access in the link's log and revokes the link; the agency's next attempt is refused."""
import subprocess
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import screenshot, wait_until_gone
from test_account_flow import fill, sign_out
from test_rental_file import UPLOADS, sign_in, sign_up, upload


def pdf_text(data, tmp_path):
    path = tmp_path / "shared.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=30).stdout


def test_share_two_documents_then_revoke(server, browser, tmp_path):
    sign_up(browser, server, "Jane", "jane@example.org", "correct horse battery staple")
    browser.get(server.url + "/file?lang=en")
    upload(browser, "identity-card", [UPLOADS / "photo-with-gps.jpg"])
    upload(browser, "tax-notice", [UPLOADS / "payslip.pdf"])
    upload(browser, "rent-receipts", [UPLOADS / "payslip.pdf"])

    # Two of the three documents, for an agency.
    browser.get(server.url + "/file/sharing?lang=en")
    assert browser.find_element(By.ID, "links-none").is_displayed()
    Select(browser.find_element(By.ID, "kind")).select_by_value("agency")
    fill(browser, {"name": "Agence Dupont", "email": "contact@agence-dupont.example", "purpose": "Visit of 12 rue des Lilas"})
    browser.find_element(By.ID, "scope-chosen").click()
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name='documents[]']")
    assert len(boxes) == 3
    for box in boxes:
        label = box.find_element(By.XPATH, "..").text
        if "identity card" in label or "tax notice" in label:
            box.click()
    button = browser.find_element(By.CSS_SELECTOR, "#share-form button[type=submit]")
    button.click()
    wait_until_gone(browser, button)
    link = browser.find_element(By.ID, "created-link").get_attribute("href")
    assert "/s/" in link
    screenshot(browser, "share-created")
    sign_out(browser)

    # The agency, with nothing but the link.
    browser.delete_all_cookies()
    browser.get(link)
    assert "Agence Dupont" in browser.find_element(By.ID, "recipient").text
    shared = browser.find_elements(By.CSS_SELECTOR, "#shared-documents li")
    assert len(shared) == 2 and not any("rent receipts" in item.text for item in shared)
    screenshot(browser, "share-recipient")
    whole = browser.find_element(By.ID, "whole-pdf").get_attribute("href")
    with urllib.request.urlopen(whole, timeout=60) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        text = pdf_text(response.read(), tmp_path)
    assert "Agence Dupont" in text and "Visit of 12 rue des Lilas" in text
    assert "rent receipts" not in text

    # The tenant sees the agency's views, then revokes the link.
    sign_in(browser, server, "jane@example.org", "correct horse battery staple")
    browser.get(server.url + "/file/sharing?lang=en")
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-state=active]")
    assert "Agence Dupont" in row.text
    log = browser.find_element(By.CSS_SELECTOR, "tr.accesses details")
    log.find_element(By.TAG_NAME, "summary").click()
    entries = [item.text for item in log.find_elements(By.CSS_SELECTOR, ".access-log li")]
    assert len(entries) == 2 and "whole file (PDF)" in entries[0] and "file page" in entries[1]
    button = row.find_element(By.CSS_SELECTOR, "button.revoke")
    button.click()
    wait_until_gone(browser, button)
    assert browser.find_element(By.CSS_SELECTOR, "tr[data-state=revoked]")
    screenshot(browser, "share-revoked")

    # The agency again: refused, for good.
    for address in (link, whole):
        try:
            urllib.request.urlopen(address, timeout=30)
            raise AssertionError(f"{address} still answers")
        except urllib.error.HTTPError as error:
            assert error.code == 410
    browser.delete_all_cookies()
    browser.get(link + "?lang=en")
    assert "withdrew this share" in browser.find_element(By.ID, "message").text
