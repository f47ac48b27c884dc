"""The rental file in a real browser: a tenant fills in a profile, adds a guarantor, uploads an
identity document and three payslips with a progress bar, sees the completeness; an operator
validates one document and declines the other with a reason that the tenant then reads."""
import email
import pathlib
import re
import subprocess

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import screenshot, wait_until_gone
from test_account_flow import fill, sign_out, submit

UPLOADS = pathlib.Path(__file__).resolve().parents[1] / "Fixtures" / "uploads"


def sign_up(browser, server, first, address, password):
    """Signs up, confirms the address with the emailed link (uploads need it), then signs in."""
    before = len(server.outbox())
    browser.get(server.url + "/signup?lang=en")
    fill(browser, {"firstName": first, "lastName": "Doe", "email": address, "password": password})
    submit(browser)
    for path in reversed(server.wait_for_mail(before + 1)):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address and "verify-email" in message.get_payload():
            browser.get(re.search(r"(http://\S+/verify-email\?token=\S+)", message.get_payload()).group(1))
            submit(browser)
            break
    else:
        raise AssertionError(f"no confirmation message to {address}")
    sign_in(browser, server, address, password)


def sign_in(browser, server, email, password):
    browser.get(server.url + "/signin?lang=en")
    fill(browser, {"email": email, "password": password})
    submit(browser)


def upload(browser, type_id, files, person=None):
    form = browser.find_element(By.ID, "upload-form")
    if person:
        Select(browser.find_element(By.ID, "guarantor")).select_by_visible_text(person)
    Select(browser.find_element(By.ID, "type")).select_by_value(type_id)
    browser.find_element(By.ID, "file").send_keys("\n".join(str(f) for f in files))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # The script reloads the page once the upload is through.
    try:
        wait_until_gone(browser, form)
    except Exception:
        screenshot(browser, "upload-stuck")
        print("upload error:", browser.find_element(By.ID, "upload-error").text)
        print("logs:", browser.get_log("browser"))
        raise


def test_tenant_file_and_review(server, browser, tmp_path):
    sign_up(browser, server, "Jane", "jane@example.org", "correct horse battery staple")
    browser.get(server.url + "/file?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "My file"

    # Profile: a mistake is shown next to its field, then fixed.
    fill(browser, {"city": "Lyon", "monthlyIncome": "3200", "surface": "huge"})
    browser.find_element(By.CSS_SELECTOR, "#profile-form button[type=submit]").click()
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "surface-error")))
    assert browser.find_element(By.ID, "surface-error").text == "Whole number expected."
    fill(browser, {"surface": "45"})
    button = browser.find_element(By.CSS_SELECTOR, "#profile-form button[type=submit]")
    button.click()
    wait_until_gone(browser, button)
    assert browser.find_element(By.ID, "profile-saved").is_displayed()
    assert browser.find_element(By.ID, "city").get_attribute("value") == "Lyon"

    # A guarantor.
    fill(browser, {"name": "Paul Doe"})
    button = browser.find_element(By.CSS_SELECTOR, "#guarantor-form button[type=submit]")
    button.click()
    wait_until_gone(browser, button)
    assert "Paul Doe" in browser.find_element(By.ID, "guarantors").find_element(By.XPATH, "following-sibling::ul").text

    # A forbidden document is explained; a mislabelled file is refused with its reason.
    assert "article 22-2" in browser.find_element(By.ID, "forbidden").get_attribute("textContent")
    form = browser.find_element(By.ID, "upload-form")
    Select(browser.find_element(By.ID, "type")).select_by_value("identity-card")
    browser.find_element(By.ID, "file").send_keys(str(UPLOADS / "scan-named.pdf"))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    error = WebDriverWait(browser, 15).until(expected_conditions.visibility_of_element_located((By.ID, "upload-error")))
    assert error.text == "scan-named.pdf: The file is named .pdf but its content is a PNG."
    browser.get(server.url + "/file?lang=en")

    # An identity document, then three payslips in one document.
    upload(browser, "identity-card", [UPLOADS / "photo-with-gps.jpg"])
    payslips = []
    for month in ("january", "february", "march"):
        path = tmp_path / f"payslip-{month}.pdf"
        path.write_bytes((UPLOADS / "payslip.pdf").read_bytes())
        payslips.append(path)
    upload(browser, "payslips", payslips)
    upload(browser, "passport", [UPLOADS / "payslip.pdf"], person="Paul Doe (A person)")
    screenshot(browser, "file-uploaded")

    rows = browser.find_elements(By.CSS_SELECTOR, "table.documents tbody tr")
    assert len(rows) == 3
    assert all(row.get_attribute("data-status") == "pending" for row in rows)
    payslip_row = next(row for row in rows if "Last 3 payslips" in row.text)
    assert [link.text for link in payslip_row.find_elements(By.TAG_NAME, "a")] == [
        "payslip-january.pdf", "payslip-february.pdf", "payslip-march.pdf"]
    completeness = browser.find_elements(By.CSS_SELECTOR, ".person-completeness")
    tenant = completeness[0].text
    assert "✓ Proof of identity" in tenant and "✓ Proof of income" in tenant and "✗ Proof of address" in tenant
    sign_out(browser)

    # An operator reviews: the identity document is validated, the payslips declined.
    created = subprocess.run(
        [server.binary, "user", "create", "--email", "olga@example.org", "--role", "operator", "--password-stdin", "--language", "en"],
        input="a long operator passphrase\n", text=True, capture_output=True, env=server.env, timeout=60)
    assert created.returncode == 0, created.stderr
    sign_in(browser, server, "olga@example.org", "a long operator passphrase")
    browser.get(server.url + "/staff/reviews?lang=en")
    queue = browser.find_elements(By.CSS_SELECTOR, "#review-queue tbody tr")
    assert len(queue) == 3
    screenshot(browser, "review-queue")
    identity = next(row for row in queue if "identity card" in row.text)
    button = identity.find_element(By.CSS_SELECTOR, "button.validate")
    button.click()
    wait_until_gone(browser, button)
    payslip = next(row for row in browser.find_elements(By.CSS_SELECTOR, "#review-queue tbody tr") if "payslips" in row.text)
    payslip.find_element(By.TAG_NAME, "summary").click()
    payslip.find_element(By.CSS_SELECTOR, "input[value=illegible]").click()
    payslip.find_element(By.CSS_SELECTOR, "input[name=comment]").send_keys("The March payslip is cut off.")
    button = payslip.find_element(By.CSS_SELECTOR, "button.decline")
    button.click()
    wait_until_gone(browser, button)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#review-queue tbody tr")) == 1
    sign_out(browser)

    # The tenant reads why.
    sign_in(browser, server, "jane@example.org", "correct horse battery staple")
    browser.get(server.url + "/file?lang=en")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.documents tbody tr")
    statuses = {row.find_element(By.TAG_NAME, "td").text: row.get_attribute("data-status") for row in rows}
    assert statuses["French or foreign identity card (with photograph)"] == "validated"
    assert statuses["Last 3 payslips"] == "declined"
    declined = next(row for row in rows if row.get_attribute("data-status") == "declined")
    assert declined.find_element(By.CLASS_NAME, "declined-reasons").text == "Reasons: Illegible or blurred"
    assert declined.find_element(By.CLASS_NAME, "review-comment").text == "Comment: The March payslip is cut off."
    # The document opens in a sandbox that runs nothing.
    link = rows[0].find_element(By.TAG_NAME, "a").get_attribute("href")
    assert "/file/documents/" in link
    screenshot(browser, "file-reviewed")
    # And the payslips no longer count towards completeness.
    assert "✗ Proof of income" in browser.find_elements(By.CSS_SELECTOR, ".person-completeness")[0].text
