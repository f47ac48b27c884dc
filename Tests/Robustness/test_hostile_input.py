"""Hostile input beyond files, against the real server (the `api` fixture's tenant): huge
headers, deeply nested JSON, unknown fields on every JSON route, SQL and template injection
strings, and header injection in names that reach emails. Each is answered with a clear 4xx
(or, for injection strings that are valid text, stored and given back exactly as typed),
nothing else is stored, and the server stays up.

(Invalid UTF-8, 10 MB bodies, malformed multipart and extreme numbers are in
test_extreme_values.py and test_streamed_uploads.py.)
"""
import http.client
import html
import json
import subprocess
import time

import pytest

from conftest import pdf_upload, UPLOADS, _binary

STAFF_EMAIL, STAFF_PASSWORD = "hostile-operator@example.org", "a long operator passphrase for hostility"

JSON_ROUTES = [
    ("POST", "/api/v1/accounts", False, {"email": "hostile@example.org", "password": "a long and quiet harbour", "firstName": "Ana", "lastName": "Hostile"}),
    ("POST", "/api/v1/accounts/verify", False, {"token": "x"}),
    ("POST", "/api/v1/sessions", False, {"email": "nobody@example.org", "password": "whatever it is"}),
    ("POST", "/api/v1/password/forgot", False, {"email": "nobody@example.org"}),
    ("POST", "/api/v1/password/reset", False, {"token": "x", "password": "a long and quiet harbour"}),
    ("PATCH", "/api/v1/me/profile", True, {"city": "Lyon", "pseudonym": "Cami", "postalAddress": "1 rue de la Paix", "phone": "0612345678",
                                           "birthDate": "1990-05-01", "desiredDate": "2027-01-01", "firstName": "Camille", "lastName": "Robustesse"}),
    ("POST", "/api/v1/me/guarantors", True, {"kind": "guarantor", "name": "Alex Garant"}),
    ("POST", "/api/v1/me/application", True, {"kind": "alone"}),
    ("POST", "/api/v1/me/application/join", True, {"code": "x"}),
    ("POST", "/api/v1/me/shares", True, {"recipient": {"name": "Agence Hostile", "email": "agence@example.org", "kind": "agency"},
                                         "purpose": "Visite"}),
    ("POST", "/api/v1/me/certificates", True, {"rent": 900}),
    ("POST", "/api/v1/me/consents", True, {"purpose": "newsletters"}),
    ("POST", "/api/v1/me/objections", True, {"purpose": "newsletters"}),
    ("POST", "/api/v1/me/requests", True, {"right": "access", "details": "Tout."}),
    ("PUT", "/api/v1/me/directives", True, {"choice": "communicate", "contact": {"name": "Anne"}}),
]


def state(api):
    """What the tenant's file holds: a refusal must change none of it."""
    seen = {path: api.get_json(path) for path in ("/api/v1/me/profile", "/api/v1/me/guarantors", "/api/v1/me/documents",
                                                  "/api/v1/me/shares", "/api/v1/me/certificates", "/api/v1/me/consents",
                                                  "/api/v1/me/objections", "/api/v1/me/restriction", "/api/v1/me/requests")}
    for path in ("/api/v1/me/application", "/api/v1/me/directives"):
        answer = api.send("GET", path)
        seen[path] = (answer.status, answer.json())
    return seen


@pytest.fixture
def no_mail(api):
    """The test's refusals sent no email: the outbox, written every 2 s, is read once it has
    had the time to write what the test queued."""
    time.sleep(2.5)
    before = {name for name, _, _ in api.server.outbox()}
    yield
    time.sleep(2.5)
    sent = [(name, to) for name, to, _ in api.server.outbox() if name not in before]
    assert sent == [], f"refused requests sent mail: {sent}"


@pytest.fixture(scope="module")
def staff(api):
    """An operator's token (created with `dossier user create` beside the running server)."""
    created = subprocess.run([_binary(), "user", "create", "--email", STAFF_EMAIL, "--role", "operator", "--password-stdin"],
                             input=STAFF_PASSWORD + "\n", env=api.server.env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    answer = api.send("POST", "/api/v1/sessions", json_body={"email": STAFF_EMAIL, "password": STAFF_PASSWORD}, auth=False)
    assert answer.status == 201, answer.describe()
    return answer.json()["token"]


def routes(document, staff, organisation):
    """Every JSON route with a body: (method, path, auth, a valid body)."""
    return JSON_ROUTES + [
        ("POST", f"/api/v1/staff/documents/{document['id']}/review", staff, {"decision": "validated"}),
        ("POST", "/api/v1/staff/requests", staff, {"right": "erasure", "channel": "post", "receivedAt": "2026-01-05", "name": "Paul Martin"}),
        ("POST", "/api/v1/organisation/members", organisation["token"], {"email": "invitee@example.org"}),
        ("POST", "/api/v1/organisation/join", False, {"token": "x", "firstName": "Ines", "lastName": "Invitee",
                                                      "password": "a long and quiet harbour"}),
    ]


def test_an_unknown_field_is_refused_and_nothing_is_stored(api, document, staff, organisation, no_mail):
    for method, path, auth, body in routes(document, staff, organisation):
        before = state(api)
        answer = api.send(method, path, json_body={**body, "isAdmin": True}, auth=auth)
        assert answer.status == 422, answer.describe()
        assert [field["field"] for field in answer.json()["error"]["fields"]] == ["isAdmin"], answer.describe()
        assert state(api) == before, answer.describe()


def test_deeply_nested_json_is_refused(api, document, staff, organisation, no_mail):
    """1,000 and 7,000 deep fit the 16 kB a JSON body may take and reach the parser (400);
    100,000 deep is refused for its size before (413)."""
    for method, path, auth, body in routes(document, staff, organisation):
        before = state(api)
        for depth, status in ((1000, 400), (7000, 400), (100_000, 413)):
            nested = "[" * depth + "]" * depth
            text = json.dumps(body)[:-1] + ', "deep": ' + nested + "}"
            answer = api.send(method, path, body=text, content_type="application/json", auth=auth)
            assert answer.status == status, answer.describe()
            api.no_server_error(answer)
            api.still_up(answer)
        assert state(api) == before


def test_invalid_utf8_in_every_text_field_is_refused(api, document, staff, organisation, no_mail):
    """Each text field of each JSON route in turn holds bytes that are not UTF-8: 400, nothing stored."""
    extra = {"/api/v1/me/guarantors": {"email": "garant@example.org", "phone": "0612345678"}}
    review = f"/api/v1/staff/documents/{document['id']}/review"
    for method, path, auth, body in routes(document, staff, organisation) + [("POST", review, staff, {"decision": "validated", "comment": "x"})]:
        full = {**body, **extra.get(path, {})}
        for field in [key for key, value in full.items() if isinstance(value, str) and key not in ("decision", "kind")]:
            raw = json.dumps({**full, field: "@@HERE@@"}).encode().replace(b"@@HERE@@", b"ab\xff\xfecd")
            before = state(api)
            answer = api.send(method, path, body=raw, content_type="application/json", auth=auth)
            assert answer.status == 400, f"{field}: " + answer.describe()
            assert state(api) == before, f"{field}: " + answer.describe()


def test_huge_headers_are_refused_and_the_server_stays_up(api):
    # One header of 1 MB, and ten thousand small ones: refused by the HTTP layer (or the
    # connection closed), never a crash or a hang.
    for headers in ({"X-Huge": "a" * (1024 * 1024)}, {f"X-Many-{n}": "v" for n in range(10_000)}):
        answer = api.stream("GET", "/api/v1/me", headers={**headers, "Authorization": f"Bearer {api.token}"}, allow_no_answer=True)
        if answer is not None:
            assert 400 <= answer.status < 500, answer.describe()
        assert api.send("GET", "/health", auth=False).status == 200


INJECTIONS = [
    "Robert'); DROP TABLE accounts;--",
    "' OR '1'='1",
    "1; SELECT pg_sleep(30)",
    "#(csrf) #extend(\"base\") {{7*7}} ${7*7}",
    "<script>alert(1)</script>",
    "%s%s%s%n",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_reach_a_recipient_as_text(api, document, text, tmp_path):
    """A recipient's name and a purpose of injection strings: the recipient's page shows them
    escaped, and the watermark of the delivered PDF says them as typed."""
    created = api.send("POST", "/api/v1/me/shares", json_body={
        "recipient": {"name": text, "email": "agence@example.org", "kind": "agency"}, "purpose": text,
        "documentIds": [document["id"]]})
    # Its recipient is told when the tenant changes the file later (Art. 19): mail it may get.
    api.recipients.add("agence@example.org")
    assert created.status == 201, created.describe()
    token = created.json()["url"].rsplit("/", 1)[1]
    page = api.send("GET", f"/s/{token}", auth=False)
    assert page.status == 200, page.describe()
    shown = page.content.decode()
    assert text in html.unescape(shown) and "<script>alert(1)</script>" not in shown
    delivered = api.send("GET", f"/s/{token}/documents/{document['id']}", auth=False)
    assert delivered.status == 200 and delivered.content.startswith(b"%PDF-"), delivered.describe()
    path = tmp_path / "delivered.pdf"
    path.write_bytes(delivered.content)
    extracted = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    assert text in " ".join(extracted.split()), extracted[:500]
    assert api.send("DELETE", f"/api/v1/me/shares/{created.json()['id']}").status == 204


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_are_only_text(api, text):
    """Valid text: stored and read back exactly; the database answers as before."""
    answer = api.send("PATCH", "/api/v1/me/profile", json_body={"city": text, "pseudonym": text[:60]})
    assert answer.status == 200, answer.describe()
    profile = api.get_json("/api/v1/me/profile")["profile"]
    assert profile["city"] == text and profile["pseudonym"] == text[:60]
    # Where a query takes them: sign-in and a join code find nothing, and say so.
    signed_in = api.send("POST", "/api/v1/sessions", json_body={"email": text, "password": text}, auth=False)
    assert signed_in.status in (401, 429), signed_in.describe()
    joined = api.send("POST", "/api/v1/me/application/join", json_body={"code": text})
    assert joined.status in (404, 409, 429), joined.describe()
    assert api.get_json("/api/v1/me")["emailVerified"] is True
    api.send("PATCH", "/api/v1/me/profile", json_body={"city": None, "pseudonym": None})


@pytest.mark.parametrize("name", [
    "Alex\r\nBcc: intruder@example.org",
    "Alex\nSubject: you won",
    "Alex\u0085Bcc: intruder@example.org",
    "Alex\u2028Bcc: intruder@example.org",
    "Alex\u202eeaxe.exe",
])
def test_header_injection_in_names_that_reach_emails_is_refused(api, name, no_mail):
    """A guarantor's name goes into the notice email; a tenant's into every email: a line break
    (or a bidirectional override) in either is refused, and no message is written."""
    before = state(api)
    guarantor = api.send("POST", "/api/v1/me/guarantors",
                         json_body={"kind": "guarantor", "name": name, "email": "garant.hostile@example.org"})
    assert guarantor.status == 422, guarantor.describe()
    renamed = api.send("PATCH", "/api/v1/me/profile", json_body={"firstName": name})
    assert renamed.status == 422, renamed.describe()
    signed_up = api.send("POST", "/api/v1/accounts", auth=False, json_body={
        "email": "header.injection@example.org", "password": "a long and quiet harbour", "firstName": name, "lastName": "Doe"})
    assert signed_up.status == 422, signed_up.describe()
    assert state(api) == before


def test_unknown_multipart_fields_are_refused(api, no_mail):
    catalogue = api.send("GET", "/api/v1/catalogue/documents", auth=False).json()
    type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
    body, content_type = pdf_upload(type_id, (UPLOADS / "payslip.pdf").read_bytes())
    boundary = content_type.split("boundary=")[1]
    extra = f"--{boundary}\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nvalidated\r\n".encode()
    file_part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.pdf\"\r\n"
                 f"Content-Type: application/pdf\r\n\r\n").encode() + (UPLOADS / "payslip.pdf").read_bytes() + b"\r\n"
    for prefix in (extra, file_part):
        before = state(api)
        answer = api.send("POST", "/api/v1/me/documents", body=prefix + body, content_type=content_type)
        assert answer.status == 422, answer.describe()
        assert state(api) == before


def test_template_syntax_in_a_comment_reaches_the_email_as_text(api, document, staff):
    """A reviewer's comment goes into the tenant's email as typed: nothing in it is evaluated."""
    comment = "{{7*7}} #(csrf) ${7*7} <%= 7*7 %> %s%n"
    answer = api.send("POST", f"/api/v1/staff/documents/{document['id']}/review", auth=staff,
                      json_body={"decision": "validated", "comment": comment})
    assert answer.status == 204, answer.describe()
    deadline = time.time() + 20
    while not any(comment in text for _, _, text in api.server.outbox()):
        assert time.time() < deadline, "no email holds the comment as typed"
        time.sleep(0.25)


def test_a_refused_upload_leaves_its_connection_usable(api):
    """An upload refused part-way (a text field over 4 KiB, then a megabyte more) is answered,
    and the next upload on the same keep-alive connection is served at once. (The server used
    to leave the rest of the refused body unread: the connection stalled, and the retry held
    the account's upload slot until the idle timeout, a minute later.)"""
    catalogue = api.send("GET", "/api/v1/catalogue/documents", auth=False).json()
    type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
    good, content_type = pdf_upload(type_id, (UPLOADS / "payslip.pdf").read_bytes())
    boundary = content_type.split("boundary=")[1]
    refused = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n").encode() + b"x" * 5000 + b"\r\n" + \
        (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n").encode() + \
        b"%PDF-1.7\n" + b"0" * (1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", api.server.port, timeout=20)
    try:
        headers = {"Authorization": f"Bearer {api.token}", "Content-Type": content_type}
        connection.request("POST", "/api/v1/me/documents", body=refused, headers=headers)
        first = connection.getresponse()
        first.read()
        assert first.status == 400, first.status
        started = time.time()
        connection.request("POST", "/api/v1/me/documents", body=good, headers=headers)
        second = connection.getresponse()
        body = json.loads(second.read())
        assert second.status == 201, (second.status, body)
        assert time.time() - started < 15
    finally:
        connection.close()
    assert api.send("DELETE", f"/api/v1/me/documents/{body['id']}").status == 204
