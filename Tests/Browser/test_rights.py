"""The data-subject rights in a real browser: a tenant downloads their export, corrects their
income, gives consent to newsletters then objects to them, restricts processing (their share link then refuses to serve), lifts the restriction (it
serves again), and deletes their account with their password, receiving the receipt on the page
and by email."""
import email
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import screenshot, wait_until_gone
from test_account_flow import fill
from test_rental_file import UPLOADS, sign_in, sign_up, upload

PASSWORD = "correct horse battery staple"


def click(browser, selector):
    button = browser.find_element(By.CSS_SELECTOR, selector)
    button.click()
    wait_until_gone(browser, button)


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_export_correct_restrict_lift_and_delete(server, browser):
    sign_up(browser, server, "Jane", "jane@example.org", PASSWORD)
    browser.get(server.url + "/file?lang=en")
    upload(browser, "tax-notice", [UPLOADS / "payslip.pdf"])

    # The export: the form's POST answers a ZIP (read by the page's own session).
    browser.get(server.url + "/account?lang=en")
    answer = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const form = document.getElementById('my-export');
        fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form))})
          .then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get('content-type'), new Uint8Array(b).slice(0, 2).join(','), b.byteLength])))
          .catch(e => done([0, String(e), '', 0]));
    """)
    assert answer[0] == 200 and answer[1] == "application/zip" and answer[2] == "80,75", answer  # "PK"
    assert answer[3] > 1000

    # Rectification: the income corrected.
    browser.get(server.url + "/file?lang=en")
    fill(browser, {"monthlyIncome": "2750"})
    click(browser, "#profile-form button[type=submit]")
    assert browser.find_element(By.ID, "monthlyIncome").get_attribute("value") == "2750"

    # A link for an agency.
    browser.get(server.url + "/file/sharing?lang=en")
    fill(browser, {"name": "Agence Dupont", "email": "contact@agence-dupont.example", "purpose": "Visit"})
    click(browser, "#share-form button[type=submit]")
    link = browser.find_element(By.ID, "created-link").get_attribute("href")
    assert status(link) == 200

    # Newsletters: consent given, then an objection, which ends it and is upheld at once.
    browser.get(server.url + "/account?lang=en")
    click(browser, "li[data-purpose=newsletters] button[type=submit]")
    assert "given on" in browser.find_element(By.CSS_SELECTOR, "li[data-purpose=newsletters]").text
    Select(browser.find_element(By.ID, "objection-purpose")).select_by_value("newsletters")
    click(browser, "#object button[type=submit]")
    assert "upheld" in browser.find_element(By.ID, "objection-list").text
    assert "not given" in browser.find_element(By.CSS_SELECTOR, "li[data-purpose=newsletters]").text

    # Restriction: the link refuses; the page says since when; lifted, it serves again.
    browser.get(server.url + "/account?lang=en")
    click(browser, "#restrict button[type=submit]")
    assert "restricted since" in browser.find_element(By.ID, "restricted").text
    screenshot(browser, "account-restricted")
    assert status(link) == 403
    click(browser, "#lift-restriction button[type=submit]")
    assert browser.find_elements(By.ID, "restricted") == []
    assert status(link) == 200

    # Erasure: what goes and what stays is shown first; a wrong password deletes nothing.
    browser.find_element(By.ID, "delete-my-account").click()
    assert "Supporting documents" in browser.find_element(By.ID, "erased").text
    assert "Identification" in browser.find_element(By.ID, "kept").text or "identification" in browser.find_element(By.ID, "kept").text
    fill(browser, {"password": "not my password at all"})
    click(browser, "#delete-account button[type=submit]")
    assert "nothing was deleted" in browser.find_element(By.ID, "error").text
    screenshot(browser, "account-delete")
    fill(browser, {"password": PASSWORD})
    click(browser, "#delete-account button[type=submit]")
    receipt = browser.find_element(By.ID, "receipt").text
    reference = browser.find_element(By.CSS_SELECTOR, "#reference code").text
    assert "Account deleted" in receipt and len(reference) == 36
    screenshot(browser, "account-deleted")
    # Signed out, the link shut, the account gone; the receipt in the mailbox.
    browser.get(server.url + "/account?lang=en")
    assert "/signin" in browser.current_url
    assert status(link) == 404
    sign_in(browser, server, "jane@example.org", PASSWORD)
    assert "/signin" in browser.current_url
    # The outbox writes every 2 s: wait for the receipt itself, not for any message.
    deadline = time.monotonic() + 30
    receipts = []
    while not receipts and time.monotonic() < deadline:
        mailed = [email.message_from_bytes(path.read_bytes()) for path in server.wait_for_mail(1)]
        receipts = [m for m in mailed if m["To"] == "jane@example.org" and reference in m.get_payload(decode=True).decode()]
        if not receipts:
            time.sleep(0.5)
    assert receipts, "no receipt mailed"
