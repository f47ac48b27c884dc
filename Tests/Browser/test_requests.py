"""Rights requests and post-mortem directives in a real browser: a tenant records directives and
files an access request (acknowledged by mail with its last day); the DPO finds it in the queue,
files the proof of identity the tenant sent, records the check (the proof is gone at once),
downloads the tenant's export and answers; the tenant's page says the request was handled."""
import email
import subprocess
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import screenshot
from test_account_flow import fill, sign_out
from test_rental_file import UPLOADS, sign_in, sign_up
from test_rights import click, status

PASSWORD = "correct horse battery staple"


def mail_to(server, address, needle, timeout=30):
    """The first message to `address` whose text contains `needle` (the outbox writes every 2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in server.wait_for_mail(1):
            message = email.message_from_bytes(path.read_bytes())
            text = message.get_payload(decode=True).decode()
            if message["To"] == address and needle in text:
                return text
        time.sleep(0.5)
    raise AssertionError(f"no message to {address} containing {needle!r}")


def test_directives_and_a_request_handled_by_the_dpo(server, browser):
    sign_up(browser, server, "Jane", "jane@example.org", PASSWORD)

    # Directives: recorded, shown back.
    browser.get(server.url + "/account?lang=en")
    browser.find_element(By.CSS_SELECTOR, "#directives-form input[value=communicate]").click()
    fill(browser, {"instructions": "Give my documents to my sister.", "contactName": "Anne Doe", "contactEmail": "anne@example.org"})
    click(browser, "#directives-form button[type=submit]")
    assert "Directives saved on" in browser.find_element(By.ID, "directives-saved").text
    assert browser.find_element(By.ID, "directives-contact").get_attribute("value") == "Anne Doe"

    # A request: filed, listed with its last day, acknowledged by mail.
    Select(browser.find_element(By.ID, "request-right")).select_by_value("access")
    fill(browser, {"details": "Everything you hold about me, please."})
    click(browser, "#file-request button[type=submit]")
    listed = browser.find_element(By.ID, "request-list").text
    assert "right of access" in listed and "answer by" in listed, listed
    reference = listed.split(" ")[0]
    assert reference.startswith("R-"), listed
    assert "answer by" in mail_to(server, "jane@example.org", reference)
    sign_out(browser)

    # The DPO handles it.
    created = subprocess.run(
        [server.binary, "user", "create", "--email", "dana@example.org", "--role", "dpo", "--password-stdin", "--language", "en"],
        input="a long dpo passphrase here\n", text=True, capture_output=True, env=server.env, timeout=60)
    assert created.returncode == 0, created.stderr
    sign_in(browser, server, "dana@example.org", "a long dpo passphrase here")
    browser.get(server.url + "/staff/requests?lang=en")
    row = browser.find_element(By.CSS_SELECTOR, "#request-queue tbody tr")
    assert reference in row.text and "Jane Doe" in row.text
    screenshot(browser, "request-queue")
    row.find_element(By.TAG_NAME, "a").click()
    assert "Everything you hold about me" in browser.find_element(By.ID, "request-detail").text

    # The proof of identity the tenant sent: filed, then checked; it is gone at once.
    browser.find_element(By.ID, "proof-file").send_keys(str(UPLOADS / "payslip.pdf"))
    click(browser, "#proof-form button[type=submit]")
    proof = browser.find_element(By.ID, "proof-view").get_attribute("href")
    click(browser, "#identity-check button[value=verified]")
    assert browser.find_element(By.ID, "identity").text == "verified"
    assert browser.find_elements(By.ID, "proof-view") == []
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    assert status_with_cookies(proof, cookies) == 409

    # The export of the tenant's data, for the answer; then the answer.
    export = browser.find_element(By.ID, "request-export").get_attribute("href")
    assert status_with_cookies(export, cookies) == 200
    fill(browser, {"answer": "Your export is attached to this message."})
    click(browser, "#answer button[type=submit]")
    assert browser.find_element(By.ID, "request-status").text.startswith("handled")
    screenshot(browser, "request-answered")
    assert "Your export is attached" in mail_to(server, "jane@example.org", "was handled")
    # The retention page: each rule of the register with what is due now, the latest sweeps, the holds.
    browser.find_element(By.CSS_SELECTOR, "nav a[href='/staff/retention']").click()
    due = browser.find_element(By.ID, "retention-next").text
    assert "connection-log" in due and "6 months from collection" in due
    assert browser.find_element(By.ID, "no-holds").text == "No hold stands."
    screenshot(browser, "staff-retention")
    sign_out(browser)

    # The tenant sees it handled.
    sign_in(browser, server, "jane@example.org", PASSWORD)
    browser.get(server.url + "/account?lang=en")
    assert "handled" in browser.find_element(By.ID, "request-list").text
    # A tenant has no way into the queue.
    browser.get(server.url + "/staff/requests?lang=en")
    assert "Staff only" in browser.page_source
    browser.get(server.url + "/staff/retention?lang=en")
    assert "Staff only" in browser.page_source


def status_with_cookies(url, cookies):
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url, headers={"Cookie": cookies})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
