"""A recipient organisation in a real browser: an agency registered with its address by the
operator, the address confirmed from its mailbox, its administrator invited from the command line, joining through the emailed link,
inviting a colleague from the members page; a tenant shares her file with the agency's address;
the colleague finds it in the inbox and downloads a watermarked document; the tenant sees that
view under the colleague's name; the administrator removes the colleague, whose next page asks
them to sign in again."""
import email
import re
import subprocess
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import screenshot, wait_until_gone
from test_account_flow import fill, sign_out, submit
from test_rental_file import UPLOADS, sign_in, sign_up, upload
from test_sharing import pdf_text

PASSWORD = "correct horse battery staple"


def mailed_link(server, address, path, count):
    """The `path?token=` link in the message to `address` (once the outbox holds `count` messages)."""
    for file in reversed(server.wait_for_mail(count)):
        message = email.message_from_bytes(file.read_bytes())
        if message["To"] == address and path in message.get_payload():
            return re.search(r"(http://\S+/" + re.escape(path) + r"\?token=\S+)", message.get_payload()).group(1)
    raise AssertionError(f"no {path} link to {address}")


def invitation(server, address, count):
    """The join link of the invitation to `address`."""
    return mailed_link(server, address, "organisation/join", count)


def join(browser, link, first, last):
    browser.get(link)
    assert "Agence Dupont" in browser.find_element(By.ID, "join-organisation").text
    fill(browser, {"firstName": first, "lastName": last, "password": PASSWORD})
    submit(browser)


def cli(server, *arguments):
    return subprocess.run([server.binary, *arguments], env=server.env, capture_output=True, text=True, check=True, timeout=120).stdout


def test_an_agency_receives_a_file_in_its_inbox(server, browser, tmp_path):
    created = cli(server, "organisation", "create", "--name", "Agence Dupont", "--kind", "agency", "--email", "contact@agence-dupont.example",
                  "--language", "en")
    # Whoever reads the agency's mailbox confirms the address.
    browser.get(mailed_link(server, "contact@agence-dupont.example", "organisation/confirm", 1))
    assert "Agence Dupont" in browser.find_element(By.ID, "confirm-organisation").text
    submit(browser)
    assert "now reach the inbox" in browser.find_element(By.ID, "message").text
    cli(server, "organisation", "invite", created.split()[-1], "--email", "boss@agence-dupont.example", "--admin", "--language", "en")

    # The administrator joins, then invites a colleague.
    join(browser, invitation(server, "boss@agence-dupont.example", 2), "Bea", "Boss")
    sign_in(browser, server, "boss@agence-dupont.example", PASSWORD)
    browser.get(server.url + "/organisation?lang=en")
    assert browser.find_element(By.ID, "inbox-empty").is_displayed()
    browser.find_element(By.ID, "manage-members").click()
    fill(browser, {"email": "mia@agence-dupont.example"})
    button = browser.find_element(By.CSS_SELECTOR, "#invite-form button[type=submit]")
    button.click()
    wait_until_gone(browser, button)
    assert "mia@agence-dupont.example" in browser.find_element(By.ID, "invited").text
    screenshot(browser, "organisation-members")
    sign_out(browser)
    join(browser, invitation(server, "mia@agence-dupont.example", 3), "Mia", "Member")

    # A tenant shares her file with the agency's address.
    sign_up(browser, server, "Jane", "jane@example.org", PASSWORD)
    browser.get(server.url + "/file?lang=en")
    upload(browser, "tax-notice", [UPLOADS / "payslip.pdf"])
    browser.get(server.url + "/file/sharing?lang=en")
    Select(browser.find_element(By.ID, "kind")).select_by_value("agency")
    fill(browser, {"name": "Agence Dupont", "email": "Contact@Agence-Dupont.example", "purpose": "Visit of 12 rue des Lilas"})
    button = browser.find_element(By.CSS_SELECTOR, "#share-form button[type=submit]")
    button.click()
    wait_until_gone(browser, button)
    # She is told whose inbox the address is.
    assert "from their inbox" in browser.find_element(By.ID, "created-organisation").text
    sign_out(browser)

    # The colleague finds it in the inbox and opens a document.
    sign_in(browser, server, "mia@agence-dupont.example", PASSWORD)
    browser.get(server.url + "/organisation?lang=en")
    rows = browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")
    assert len(rows) == 1 and "Jane Doe" in rows[0].text and "Visit of 12 rue des Lilas" in rows[0].text
    screenshot(browser, "organisation-inbox")
    rows[0].find_element(By.TAG_NAME, "a").click()
    document = browser.find_element(By.CSS_SELECTOR, "#shared-documents a").get_attribute("href")
    cookies = "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in browser.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(document, headers={"Cookie": cookies}), timeout=60) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert "Agence Dupont" in pdf_text(response.read(), tmp_path)
    sign_out(browser)

    # The tenant sees who looked.
    sign_in(browser, server, "jane@example.org", PASSWORD)
    browser.get(server.url + "/file/sharing?lang=en")
    log = browser.find_element(By.CSS_SELECTOR, "tr.accesses details")
    log.find_element(By.TAG_NAME, "summary").click()
    entries = [item.text for item in log.find_elements(By.CSS_SELECTOR, ".access-log li")]
    assert len(entries) == 2 and all("by Mia Member (Agence Dupont)" in entry for entry in entries), entries
    sign_out(browser)

    # The administrator removes the colleague: their account is gone.
    sign_in(browser, server, "boss@agence-dupont.example", PASSWORD)
    browser.get(server.url + "/organisation/members?lang=en")
    rows = [row for row in browser.find_elements(By.CSS_SELECTOR, "#members tbody tr") if "mia@" in row.text]
    button = rows[0].find_element(By.CSS_SELECTOR, "button")
    button.click()
    wait_until_gone(browser, button)
    assert "mia@" not in browser.find_element(By.ID, "members").text
    sign_out(browser)
    browser.get(server.url + "/signin?lang=en")
    fill(browser, {"email": "mia@agence-dupont.example", "password": PASSWORD})
    submit(browser)
    assert browser.find_element(By.ID, "signin-error").is_displayed()
