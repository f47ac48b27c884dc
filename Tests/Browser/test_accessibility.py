"""Accessibility of the web pages in a real browser: axe-core (the copy bundled in PyPI's
axe-playwright-python, injected with Selenium) checks every page a tenant, a recipient and
staff use, in both languages, against WCAG 2.1 A and AA. Any violation fails, with its rule,
its impact and the elements it names."""
import pathlib
import subprocess

import axe_playwright_python
from selenium.webdriver.common.by import By

from test_account_flow import fill
from test_rental_file import UPLOADS, sign_in, sign_up, upload

AXE = (pathlib.Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple"


def violations(browser):
    """axe-core's violations of WCAG 2.0/2.1 A and AA on the page open in `browser`."""
    browser.execute_script(AXE)
    found = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
          .then(result => done(result.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help,
                                                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
          .catch(error => done([{rule: 'axe-failed', impact: 'critical', help: String(error), nodes: []}]));
    """)
    return found


def check(browser, url, seen):
    browser.get(url)
    headings = browser.find_elements(By.TAG_NAME, "h1")
    assert headings and headings[0].text, f"{url} has no heading: {browser.page_source[:300]}"
    found = violations(browser)
    seen.append(url)
    assert found == [], f"{url}: " + "; ".join(f"{v['rule']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found)


def test_every_page_meets_wcag_21_aa(server, browser, tmp_path):
    seen = []
    for language in ("fr", "en"):
        for path in ("/", "/signup", "/signin", "/password/forgot", "/privacy", "/privacy/versions", "/no-such-page"):
            check(browser, f"{server.url}{path}?lang={language}", seen)

    # A tenant with a document, a guarantor-free file and a share link.
    sign_up(browser, server, "Jane", "jane@example.org", PASSWORD)
    browser.get(server.url + "/file?lang=en")
    upload(browser, "tax-notice", [UPLOADS / "payslip.pdf"])
    browser.get(server.url + "/file/sharing?lang=en")
    fill(browser, {"name": "Agence Dupont", "email": "contact@agence-dupont.example", "purpose": "Visit"})
    browser.find_element(By.CSS_SELECTOR, "#share-form button[type=submit]").click()
    link = browser.find_element(By.CSS_SELECTOR, "a[href*='/s/']").get_attribute("href")
    for language in ("fr", "en"):
        for path in ("/account", "/file", "/file/sharing", "/account/data", "/account/delete"):
            check(browser, f"{server.url}{path}?lang={language}", seen)

    # The recipient's page, in a browser without the tenant's session.
    browser.delete_all_cookies()
    check(browser, link, seen)

    # Staff: the review queue and the rights requests.
    created = subprocess.run(
        [server.binary, "user", "create", "--email", "olga@example.org", "--role", "dpo", "--password-stdin", "--language", "en"],
        input="a long officer passphrase\n", text=True, capture_output=True, env=server.env, timeout=60)
    assert created.returncode == 0, created.stderr
    sign_in(browser, server, "olga@example.org", "a long officer passphrase")
    for path in ("/staff/reviews", "/staff/requests"):
        check(browser, f"{server.url}{path}?lang=en", seen)
    assert len(seen) == 27, seen
