"""A new tenant signs up, confirms the address from the outbox, signs out, fails and then
succeeds to sign in, and reads the connection log: in a real browser against a real server."""
import email
import re

from selenium.webdriver.common.by import By

from conftest import screenshot, wait_until_gone


def fill(driver, fields):
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


def submit(driver):
    """Submits the page's form and waits for the next page to replace it."""
    button = driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    button.click()
    wait_until_gone(driver, button)


def sign_out(driver):
    button = driver.find_element(By.CSS_SELECTOR, "nav form button")
    button.click()
    wait_until_gone(driver, button)


def test_sign_up_verify_sign_in_and_connection_log(server, browser):
    browser.get(server.url + "/signup?lang=en")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=firstName]").text == "First name *"
    assert "dossier_csrf" not in browser.execute_script("return document.cookie"), "the CSRF cookie must be HttpOnly"

    # A mistake first: the form comes back with the message and the values kept.
    fill(browser, {"firstName": "Jane", "lastName": "Doe", "email": "jane@example", "password": "short"})
    submit(browser)
    assert browser.find_element(By.ID, "email-error").text == "Not a valid email address."
    assert browser.find_element(By.ID, "password-error").text == "At least 12 characters."
    assert browser.find_element(By.NAME, "firstName").get_attribute("value") == "Jane"
    screenshot(browser, "signup-errors")

    fill(browser, {"email": "jane.doe@example.org", "password": "correct horse battery staple"})
    submit(browser)
    screenshot(browser, "signup-second-try")
    # The same answer whether or not the address already had an account: check the inbox.
    assert browser.find_element(By.ID, "message").text.startswith("If this address can be used, a message was just sent to it")

    # Signed in before confirming, the account says the address waits.
    browser.get(server.url + "/signin?lang=en")
    fill(browser, {"email": "jane.doe@example.org", "password": "correct horse battery staple"})
    submit(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Hello Jane"
    assert browser.find_element(By.ID, "not-verified").is_displayed()
    screenshot(browser, "account-unverified")

    # Without SMTP, the verification message is an .eml file in the data directory.
    message = email.message_from_bytes(server.wait_for_mail(1)[0].read_bytes())
    assert message["To"] == "jane.doe@example.org"
    assert message["Subject"] == "Confirm your email address"
    assert "Jane" not in message.get_payload(), "no name typed at sign-up reaches the mail"
    link = re.search(r"(http://\S+/verify-email\?token=\S+)", message.get_payload()).group(1)
    browser.get(link)
    # Opening the link asks; the click confirms.
    submit(browser)
    assert browser.find_element(By.ID, "message").text == "Thank you, your email address is confirmed."

    browser.get(server.url + "/account")
    assert browser.find_element(By.ID, "verified").is_displayed()

    # Sign out, a wrong password, then the right one.
    sign_out(browser)
    assert browser.find_element(By.LINK_TEXT, "Sign in").is_displayed()
    browser.get(server.url + "/signin?lang=en")
    fill(browser, {"email": "jane.doe@example.org", "password": "not my password"})
    submit(browser)
    assert browser.find_element(By.ID, "signin-error").text == "Wrong email address or password."
    fill(browser, {"email": "jane.doe@example.org", "password": "correct horse battery staple"})
    submit(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Hello Jane"

    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#connections tbody tr")]
    assert [(row[1], row[2]) for row in rows] == [
        ("sign-in", "success"), ("sign-in", "wrong password"), ("sign-out", "success"), ("sign-in", "success"),
    ]
    assert all(row[3] == "127.0.0.1" for row in rows)
    assert all("HeadlessChrome" in row[4] or "Chrome" in row[4] for row in rows)
    screenshot(browser, "account-connections")

    # The server logged the requests, but no address, password or token.
    log = server.log_text()
    assert "POST /signin 303" in log
    for secret in ("jane.doe@example.org", "correct horse battery staple", "not my password", "token="):
        assert secret not in log


def test_privacy_policy_in_both_languages(server, browser):
    browser.get(server.url + "/privacy?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Privacy policy"
    assert "6 months from collection" in browser.find_element(By.ID, "purpose-account").text
    screenshot(browser, "privacy-en")
    link = browser.find_element(By.CSS_SELECTOR, "header nav a[hreflang=fr]")
    link.click()
    wait_until_gone(browser, link)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Politique de confidentialité"
    assert "6 mois à compter de la collecte" in browser.find_element(By.ID, "purpose-account").text


def test_forgotten_password_in_french(server, browser):
    browser.get(server.url + "/signup?lang=fr")
    fill(browser, {"firstName": "Léa", "lastName": "Martin", "email": "lea@example.org", "password": "une phrase de passe longue"})
    submit(browser)
    assert "un message vient d'y être envoyé" in browser.find_element(By.ID, "message").text

    browser.get(server.url + "/password/forgot?lang=fr")
    fill(browser, {"email": "lea@example.org"})
    submit(browser)
    assert "lien de réinitialisation" in browser.find_element(By.ID, "message").text
    messages = [email.message_from_bytes(f.read_bytes()) for f in server.wait_for_mail(2)]
    subject = "=?UTF-8?B?UsOpaW5pdGlhbGlzZXogdm90cmUgbW90IGRlIHBhc3Nl?="  # "Réinitialisez votre mot de passe"
    reset = next(m for m in messages if m["Subject"] == subject)
    link = re.search(r"(http://\S+/password/reset\?token=\S+)", reset.get_payload(decode=True).decode()).group(1)
    browser.get(link)
    fill(browser, {"password": "une nouvelle phrase secrète"})
    submit(browser)
    assert "Votre mot de passe a été changé" in browser.find_element(By.ID, "message").text
    # The link works once.
    browser.get(link)
    fill(browser, {"password": "encore une autre phrase"})
    submit(browser)
    assert browser.find_element(By.ID, "message").text == "Ce lien a déjà servi."
    screenshot(browser, "reset-reused")
