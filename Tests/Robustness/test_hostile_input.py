"""Hostile input beyond files, against the real server (the `api` fixture's tenant): huge
headers, deeply nested JSON, unknown fields on every JSON route, SQL and template injection
strings, and header injection in names that reach emails. Each is answered with a clear 4xx
(or, for injection strings that are valid text, stored and given back exactly as typed),
nothing else is stored, and the server stays up.

(Invalid UTF-8, 10 MB bodies, malformed multipart and extreme numbers are in
test_extreme_values.py and test_streamed_uploads.py.)
"""
import json

import pytest

from conftest import pdf_upload, UPLOADS

JSON_ROUTES = [
    ("POST", "/api/v1/accounts", False, {"email": "hostile@example.org", "password": "a long and quiet harbour", "firstName": "Ana", "lastName": "Hostile"}),
    ("POST", "/api/v1/accounts/verify", False, {"token": "x"}),
    ("POST", "/api/v1/sessions", False, {"email": "nobody@example.org", "password": "whatever it is"}),
    ("POST", "/api/v1/password/forgot", False, {"email": "nobody@example.org"}),
    ("POST", "/api/v1/password/reset", False, {"token": "x", "password": "a long and quiet harbour"}),
    ("PATCH", "/api/v1/me/profile", True, {"city": "Lyon"}),
    ("POST", "/api/v1/me/guarantors", True, {"kind": "guarantor", "name": "Alex Garant"}),
    ("POST", "/api/v1/me/application", True, {"kind": "alone"}),
    ("POST", "/api/v1/me/application/join", True, {"code": "x"}),
]


def state(api):
    return {path: api.get_json(path) for path in ("/api/v1/me/profile", "/api/v1/me/guarantors", "/api/v1/me/documents")}


@pytest.mark.parametrize("method,path,auth,body", JSON_ROUTES, ids=[f"{m} {p}" for m, p, _, _ in JSON_ROUTES])
def test_an_unknown_field_is_refused_and_nothing_is_stored(api, method, path, auth, body):
    before = state(api)
    answer = api.send(method, path, json_body={**body, "isAdmin": True}, auth=auth)
    assert answer.status == 422, answer.describe()
    assert [field["field"] for field in answer.json()["error"]["fields"]] == ["isAdmin"], answer.describe()
    assert state(api) == before, answer.describe()


@pytest.mark.parametrize("method,path,auth,body", JSON_ROUTES, ids=[f"{m} {p}" for m, p, _, _ in JSON_ROUTES])
def test_deeply_nested_json_is_refused(api, method, path, auth, body):
    before = state(api)
    for depth in (1000, 100_000):
        nested = "[" * depth + "]" * depth
        text = json.dumps(body)[:-1] + ', "deep": ' + nested + "}"
        answer = api.send(method, path, body=text, content_type="application/json", auth=auth)
        assert 400 <= answer.status < 500, answer.describe()
        api.no_server_error(answer)
        api.still_up(answer)
    assert state(api) == before


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
    "Alex\u202eeaxe.exe",
])
def test_header_injection_in_names_that_reach_emails_is_refused(api, name):
    """A guarantor's name goes into the notice email; a tenant's into every email: a line break
    (or a bidirectional override) in either is refused, and no message is written."""
    outbox = len(api.server.outbox())
    before = state(api)
    guarantor = api.send("POST", "/api/v1/me/guarantors",
                         json_body={"kind": "guarantor", "name": name, "email": "garant.hostile@example.org"})
    assert guarantor.status == 422, guarantor.describe()
    renamed = api.send("PATCH", "/api/v1/me/profile", json_body={"firstName": name})
    assert renamed.status == 422, renamed.describe()
    signed_up = api.send("POST", "/api/v1/accounts", auth=False, json_body={
        "email": "header.injection@example.org", "password": "a long and quiet harbour", "firstName": name, "lastName": "Doe"})
    assert signed_up.status in (422, 429), signed_up.describe()
    assert state(api) == before
    assert len(api.server.outbox()) == outbox
    assert all("intruder@example.org" not in to for _, to, _ in api.server.outbox())


def test_unknown_multipart_fields_are_refused(api):
    catalogue = api.send("GET", "/api/v1/catalogue/documents", auth=False).json()
    type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
    body, content_type = pdf_upload(type_id, (UPLOADS / "payslip.pdf").read_bytes())
    boundary = content_type.split("boundary=")[1]
    extra = f"--{boundary}\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nvalidated\r\n".encode()
    before = state(api)
    answer = api.send("POST", "/api/v1/me/documents", body=extra + body, content_type=content_type)
    assert answer.status == 422, answer.describe()
    assert state(api) == before
