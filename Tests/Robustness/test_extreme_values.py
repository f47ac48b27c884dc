"""Extreme values on every field of every JSON route of a running `dossier serve`.

For each request: the answer is 200/201/… or 4xx, never 5xx; a refused request stores nothing
(what the tenant reads back is unchanged); the server still answers /health. At the end: the
server never died, its log has no "Fatal error" and none of the secrets the tests sent.

Bodies are built as raw JSON text, so that they can hold what `json.dumps` cannot write: number
literals beyond any float (10**400), lone surrogates (`"\\ud800"`), 10,000 nested arrays.

Sign-up, forgotten password and sign-in are rate-limited or throttled: they get a few examples
each (429 is a valid answer) and come last, after the sweeps that need the signed-in tenant.
"""
import requests
import json
import os
import re
import secrets
import time
import urllib.parse
import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

SCALE = float(os.environ.get("DOSSIER_ROBUSTNESS_SCALE", "1"))


def sweep(examples):
    """The settings of every sweep: `examples` (times DOSSIER_ROBUSTNESS_SCALE), no deadline, no
    example database (nothing written in the repository)."""
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None, print_blob=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


class Raw:
    """A request body or value as raw text, shown truncated when Hypothesis reports it."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text[:160]!r}{'' if len(self.text) <= 160 else f' … {len(self.text)} chars'})"


# MARK: Raw JSON fragments

def obj(pairs):
    """A JSON object's text from (raw key, raw value) pairs (keys may repeat)."""
    return "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"


def jstr(text):
    return json.dumps(text)


NUMBER_LITERALS = [
    # Floats at and beyond the edges of a double.
    "1e300", "-1e300", "1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "-5e-324", "-0.0", "0.0",
    "-0", "2.2250738585072014e-308", "1e308", "1.7976931348623159e308", "1e400", "-1e400", "1e-400", "0.1", "1.5",
    "99999.99999", "100000.0000000001", "1E2", "1e+2", "1.0", "123456789012345678901234567890.5",
    # Integers around 2**53, 2**63, 2**64 and a 401-digit one.
    *map(str, [0, 1, -1, 2**31 - 1, 2**31, 2**32, 2**53 - 1, 2**53, 2**53 + 1, -(2**53), -(2**53) - 1, 2**63 - 1, 2**63,
               -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 2**64 + 1, -(2**64), 10**400, -(10**400), 10_000, 10_001,
               100_000, 100_001, 1_000_000_000, 1_000_000_001, 10_000_000, 10_000_001]),
]
#: Not JSON at all: the whole body is then invalid.
INVALID_NUMBER_LITERALS = ["NaN", "Infinity", "-Infinity", "+1", "01", "1.", ".5", "0x10", "1e", "--1", "1_000"]

numbers = st.one_of(
    st.sampled_from(NUMBER_LITERALS),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(-10, 200_000).map(str),  # often in range: some patches go through
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.sampled_from(INVALID_NUMBER_LITERALS),
)

DATES = ["2024-02-29", "2023-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "1900-01-01", "2000-01-01", "+999-01-01",
         "2024-1-011", "1999-13-01", "1999-12-32", "99999-01-01", "-001-01-01", "2000-00-00", "2030-01-01"]
STRINGS = [
    "", " ", "\t\n ", "a", "x" * 60, "x" * 61, "x" * 300, "x" * 301, "é" * 5000, "x" * 15_000, "x" * 100_000,
    "\x00", "a\x00b", "\x01\x02\x1f\x7f", "\u0085", "\u2028\u2029", "\u202eevil\u202c", "مرحبا بالعالم", "שלום עולם",
    "👩‍👩‍👧‍👦" * 10, "🏠", "e\u0301" * 70, "\ufeff", "\ufffe\uffff", "\U0010ffff",
    "'; DROP TABLE accounts;--", "\" OR 1=1 --", "#(secret)", "#(account.passwordHash)", "{{7*7}}", "${7*7}",
    "<%= 7*7 %>", "<script>alert(1)</script>", "../../../../etc/passwd", "%00", "%s%s%s%n", "\\", "\"",
    "null", "true", "0", "1e300", "NaN",
    *DATES,
    "single", "civil-partnership", "student", "job-seeker", "alone", "couple", "group",
    "guarantor", "company", "organisation", "tenant", "+33 6 12 34 56 78", "0612345678", "(((((((((((((",
    "1" * 16, "+" * 20,
]
#: String literals only raw JSON can hold: lone surrogates, escapes, and a few invalid ones.
RAW_STRINGS = ['"\\ud800"', '"\\udc00"', '"a\\ud800b"', '"\\ud800\\ud800"', '"\\udbff\\udfff"', '"\\u0000"',
               '"\\u0000abc"', '"\\uFFFF"', '"\\/"', '"\\x41"', '"\\u12"', '"tab\there"', '"line\nbreak"']

strings = st.one_of(
    st.sampled_from(STRINGS).map(jstr),
    st.sampled_from(STRINGS).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.text(max_size=40).map(jstr),
    st.text(max_size=40).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.sampled_from(RAW_STRINGS),
)

DEEP = ["[" * 10_000 + "]" * 10_000,  # 20 kB: over a 16 kB body limit, if there is one
        "[" * 7_000 + "]" * 7_000,  # 14 kB: under it, so the parser sees it
        '{"a":' * 2_500 + "1" + "}" * 2_500, "[" * 513 + "]" * 513, "[" * 511 + "]" * 511, "[" * 7_000]

PROFILE_FIELDS = ["pseudonym", "postalAddress", "phone", "birthDate", "surface",
                  "rent", "city", "desiredDate", "visits", "familySituation", "professionalStatus", "monthlyIncome",
                  "savings", "maxBudget", "firstName", "lastName"]
NUMBER_FIELDS = {"surface", "rent", "monthlyIncome", "savings", "maxBudget"}

#: The fields of every body below: a random "unknown" key is never one of them (a duplicate key
#: is read differently by different JSON decoders, which would make an oracle here guess).
KNOWN_KEYS = set(PROFILE_FIELDS) | {"email", "password", "firstName", "lastName", "language", "token", "kind", "name",
                                    "phone", "code", "date", "address"}

odd_keys = st.one_of(
    st.sampled_from(["", "__proto__", "constructor", "id", "accountId", "passwordHash", "role",
                     "emailVerified", "profile", "mandatory", "city\u0000", "CITY", " city", "city ", "x" * 10_000]).map(jstr),
    st.text(max_size=20).filter(lambda key: key not in KNOWN_KEYS).map(jstr),
    st.just('"\\ud800"'),
)

scalars = st.one_of(numbers, strings, st.sampled_from(["true", "false", "null"]))


def containers(children):
    return st.one_of(
        st.lists(children, max_size=5).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(st.one_of(st.sampled_from(["date", "address"]).map(jstr), odd_keys), children), max_size=4).map(obj),
    )


visit = st.tuples(st.one_of(st.sampled_from(DATES).map(jstr), scalars), st.one_of(st.just(jstr("1 rue de la Paix")), scalars)) \
    .map(lambda pair: obj([('"date"', pair[0]), ('"address"', pair[1])]))
visits = st.one_of(
    st.lists(visit, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
    st.integers(49, 52).map(lambda n: "[" + ",".join([obj([('"date"', '"2030-01-01"'), ('"address"', '"Lyon"')])] * n) + "]"),
)

values = st.one_of(
    numbers, strings, st.sampled_from(["true", "false", "null"]),
    st.recursive(scalars, containers, max_leaves=8),
    visits,
    st.sampled_from(DEEP),
)


def mostly(valid, extreme=values):
    """Either a sensible value or an extreme one, so that one extreme field is often alone."""
    return st.one_of(valid, extreme)


@st.composite
def record(draw, fields, extras=True):
    """A JSON object's text: each of `fields` (name → strategy of raw values) present 4 times out
    of 5, then maybe a few unknown keys."""
    pairs = [(jstr(name), draw(strategy)) for name, strategy in fields.items() if draw(st.integers(0, 4))]
    if extras and draw(st.integers(0, 3)) == 0:
        pairs += draw(st.lists(st.tuples(odd_keys, values), min_size=1, max_size=2))
    return Raw(obj(pairs))


NOT_OBJECTS = ["", "[]", "null", "1e300", '"text"', "true", "[" * 10_000 + "]" * 10_000, "{}" * 2, '{"city":"Lyon"']

profile_patches = st.one_of(
    st.lists(st.tuples(st.one_of(st.sampled_from(PROFILE_FIELDS).map(jstr), odd_keys,
                                 st.sampled_from(["email", "password", "language"]).map(jstr)), values),
             max_size=5).map(lambda p: Raw(obj(p))),
    st.lists(st.tuples(st.sampled_from(PROFILE_FIELDS).map(jstr), values), min_size=1, max_size=2).map(lambda p: Raw(obj(p))),
    st.sampled_from(NOT_OBJECTS).map(Raw),
)


def email_addresses(known=()):
    """Fresh plausible addresses, the known ones, and extremes."""
    fresh = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_+", min_size=1, max_size=20) \
        .filter(lambda local: not local.startswith(".") and not local.endswith(".") and ".." not in local) \
        .map(lambda local: f"rb-{local}@example.org")
    odd = ["a@b", "@example.org", "a@", "a@@example.org", "a" * 65 + "@example.org", "a@" + "b" * 64 + ".org",
           "a@" + ("b" * 60 + ".") * 5 + "org", "é@example.org", "a@exämple.org", " a@example.org ", "A@EXAMPLE.ORG",
           "a@example.org\x00", "a@example.org\nBcc: victim@example.org", "\"quoted\"@example.org", "a@[127.0.0.1]",
           "a@localhost", "a@-example.org", "a@example.org.", "a@example..org"]
    options = [fresh.map(jstr), st.sampled_from(odd).map(jstr), strings, values]
    if known:
        options.append(st.sampled_from(list(known)).map(jstr))
    return st.one_of(*options)


STRONG = ["Ocean velvet seven thunder", "quartz-meadow-lantern-81", "Le chat dort sur la commode bleue",
          "ψυχή και ουρανός μαζί", "🏠🔑 river stone morning", "x" * 128, "Ab1!" * 32 + "z"]
passwords = st.one_of(st.sampled_from(STRONG).map(jstr), strings, values)
names = mostly(st.sampled_from(["Jean", "Zoë", "Ó Súilleabháin", "李", "X Æ A-12"]).map(jstr))


# MARK: Small helpers

def unchanged(api, path, before, answer):
    """After a refused request, what the tenant reads at `path` is what it was."""
    __tracebackhide__ = True
    now = api.send("GET", path)
    after = (now.status, now.json() if now.status == 200 else None)
    assert after == before, (
        f"a refused request changed {path}:\n{answer.describe()}\n"
        f"before: {str(before)[:600]}\nafter: {now.status} {now.content[:600]!r}")
    return after


def snapshot(api, path):
    answer = api.send("GET", path)
    api.no_server_error(answer)
    return (answer.status, answer.json() if answer.status == 200 else None)


def q(text):
    """A path segment, percent-encoded (dots too, so that no client folds `..`)."""
    return urllib.parse.quote(text, safe="").replace(".", "%2E")


def multipart(parts, boundary):
    """A multipart/form-data body from (headers text, content bytes) parts."""
    body = b""
    for headers, content in parts:
        body += f"--{boundary}\r\n".encode() + headers.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


# MARK: Profile (the largest sweep)

@given(body=profile_patches)
@sweep(150)
def test_profile_patch(api, body):
    path = "/api/v1/me/profile"
    before = api.state.get("profile") or snapshot(api, path)
    answer = api.send("PATCH", path, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    assert status == 200 or 400 <= status < 500, answer.describe()
    if status == 200:
        stored = api.get_json(path)
        assert stored == answer.json(), f"PATCH answered one profile, GET shows another:\n{answer.describe()}\nGET: {stored}"
        for field in NUMBER_FIELDS:
            value = (stored.get("profile") or {}).get(field)
            assert value is None or (type(value) is int and abs(value) < 2**53), (
                f"{field} stored as {value!r}:\n{answer.describe()}")
        api.state["profile"] = (200, stored)
    else:
        unchanged(api, path, before, answer)
        api.state["profile"] = before
    api.still_up(answer)


# MARK: Raw bodies: invalid UTF-8, not JSON, 10 MB, multipart without a boundary

RAW_CASES = {
    "invalid-utf8-in-string": ("PATCH", "/api/v1/me/profile", "application/json", b'{"city": "Ly\xffon"}'),
    "overlong-utf8": ("PATCH", "/api/v1/me/profile", "application/json", b'{"city": "\xc0\xaf"}'),
    "cesu-surrogate-utf8": ("PATCH", "/api/v1/me/profile", "application/json", b'{"city": "\xed\xa0\x80"}'),
    "truncated-utf8": ("PATCH", "/api/v1/me/profile", "application/json", b'{"city": "\xe2\x82"}'),
    "invalid-utf8-sign-in": ("POST", "/api/v1/sessions", "application/json", b'{"email": "a\xff@example.org", "password": "x\xfe"}'),
    "invalid-utf8-guarantor": ("POST", "/api/v1/me/guarantors", "application/json", b'{"kind": "guarantor", "name": "\xff\xfe"}'),
    "not-json": ("PATCH", "/api/v1/me/profile", "application/json", b"this is not JSON"),
    "not-json-sign-in": ("POST", "/api/v1/sessions", "application/json", b"email=a@example.org&password=x"),
    "empty-json": ("POST", "/api/v1/me/application", "application/json", b""),
    "truncated-json": ("POST", "/api/v1/me/guarantors", "application/json", b'{"kind": "guarantor", "name": "Jean'),
    "nul-bytes": ("PATCH", "/api/v1/me/profile", "application/json", b"\x00" * 64),
    "multipart-no-boundary": ("POST", "/api/v1/me/documents", "multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nidentity-card\r\n--x--\r\n"),
    "multipart-empty-boundary": ("POST", "/api/v1/me/documents", "multipart/form-data; boundary=", b"----\r\n\r\n"),
    "multipart-garbage": ("POST", "/api/v1/me/documents", "multipart/form-data; boundary=x", b"\x00\xff garbage --y--"),
    "multipart-unterminated": ("POST", "/api/v1/me/documents", "multipart/form-data; boundary=x",
                               b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7"),
}


@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_raw_bodies_are_refused(api, document, case):
    method, path, content_type, body = RAW_CASES[case]
    profile = snapshot(api, "/api/v1/me/profile")
    documents = snapshot(api, "/api/v1/me/documents")
    guarantors = snapshot(api, "/api/v1/me/guarantors")
    answer = api.send(method, path, body=body, content_type=content_type, auth="/sessions" not in path)
    assert 400 <= answer.status < 500, "expected a 4xx:\n" + answer.describe()
    api.no_server_error(answer)
    unchanged(api, "/api/v1/me/profile", profile, answer)
    unchanged(api, "/api/v1/me/documents", documents, answer)
    unchanged(api, "/api/v1/me/guarantors", guarantors, answer)
    api.still_up(answer)


@pytest.mark.parametrize("method,path,auth", [("PATCH", "/api/v1/me/profile", True), ("POST", "/api/v1/sessions", False),
                                              ("POST", "/api/v1/me/guarantors", True)])
def test_ten_megabyte_json_body(api, method, path, auth):
    """413 (or another 4xx) as soon as the limit is passed; a server may also close the
    connection on a body it will not read, as long as it stays up."""
    profile = snapshot(api, "/api/v1/me/profile")
    body = b'{"city": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = f"Bearer {api.token}"
    answer = api.stream(method, path, headers=headers, body=body, allow_no_answer=True)
    if answer is not None:  # None: closed without an answer, but the server is up (checked by stream)
        assert 400 <= answer.status < 500, "expected 413 or another 4xx:\n" + answer.describe()
        unchanged(api, "/api/v1/me/profile", profile, answer)
        api.still_up(answer)
    assert snapshot(api, "/api/v1/me/profile") == profile, f"a 10 MB body to {method} {path} changed the profile"


# MARK: Guarantors

guarantor_bodies = record({
    "kind": mostly(st.sampled_from(["guarantor", "company", "organisation", "tenant", "Guarantor"]).map(jstr)),
    "name": mostly(st.sampled_from(["Marie Curie", "ACME SAS", "Visale", "x" * 200, "x" * 201]).map(jstr)),
    "email": mostly(st.sampled_from(["garant@example.org", "", "not-an-address"]).map(jstr), email_addresses()),
    "phone": mostly(st.sampled_from(["+33 6 12 34 56 78", ""]).map(jstr)),
})


@given(body=guarantor_bodies)
@sweep(50)
def test_add_guarantor(api, body):
    path = "/api/v1/me/guarantors"
    before = snapshot(api, path)
    answer = api.send("POST", path, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    if status == 201:
        created = answer.json()
        listed = api.get_json(path)
        assert created in listed, f"the new guarantor is not listed:\n{answer.describe()}\nlist: {listed}"
        removed = api.send("DELETE", f"{path}/{created['id']}")
        assert removed.status == 204, removed.describe()
        unchanged(api, path, before, removed)
    else:
        assert 400 <= status < 500, answer.describe()
        unchanged(api, path, before, answer)
    api.still_up(answer)


# MARK: Documents: multipart fields, the file number, path ids

FILE_NAMES = ["payslip.pdf", "", "a", "../../../etc/passwd.pdf", "..\\..\\x.pdf", "x" * 10_000 + ".pdf", "nul\x00.pdf",
              "é\u202egpj.pdf", "😀.pdf", "a\"b.pdf", "a\r\nX-Injected: 1.pdf", "payslip.PDF", "payslip.exe", "payslip.pdf.html"]
PART_TYPES = [None, "application/pdf", "text/html", "image/jpeg", "", "application/pdf; charset=\x00", "x" * 5_000]


@st.composite
def uploads(draw, type_ids, pdf):
    boundary = draw(st.sampled_from(["robustness", "a" * 70, "b" * 200, "b" * 201, "'()+_,-./:=? "]))
    type_value = draw(st.one_of(st.sampled_from(type_ids), st.sampled_from(STRINGS), st.text(max_size=30)))
    parts = []
    if draw(st.integers(0, 4)):
        parts.append(('Content-Disposition: form-data; name="type"', type_value.encode("utf-8", "surrogatepass")))
    if draw(st.integers(0, 2)) == 0:
        guarantor = draw(st.one_of(st.just(str(uuid.uuid4())), st.sampled_from(STRINGS), st.text(max_size=40)))
        parts.append(('Content-Disposition: form-data; name="guarantor"', guarantor.encode("utf-8", "surrogatepass")))
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.one_of(st.sampled_from(FILE_NAMES), st.text(max_size=30)))
        kind = draw(st.sampled_from(PART_TYPES))
        content = draw(st.sampled_from([pdf, b"", b"%PDF-1.7\n", b"<html><script>alert(1)</script></html>", pdf * 20]))
        headers = f'Content-Disposition: form-data; name="file"; filename="{name}"'
        if kind is not None:
            headers += f"\r\nContent-Type: {kind}"
        parts.append((headers, content))
    return boundary, Raw(multipart(parts, boundary).decode("latin-1"))


@given(data=st.data())
@sweep(25)
def test_upload_fields(api, document, data):
    catalogue = api.state.get("catalogue") or api.send("GET", "/api/v1/catalogue/documents", auth=False).json()
    api.state["catalogue"] = catalogue
    boundary, body = data.draw(uploads([entry["id"] for entry in catalogue], document["bytes"]), label="upload")
    path = "/api/v1/me/documents"
    before = snapshot(api, path)
    quoted = f'"{boundary}"' if re.search(r"[^A-Za-z0-9_-]", boundary) else boundary
    answer = api.send("POST", path, body=body.text.encode("latin-1"), content_type=f"multipart/form-data; boundary={quoted}")
    status = api.no_server_error(answer)
    if status == 201:
        removed = api.send("DELETE", f"{path}/{answer.json()['id']}")
        assert removed.status == 204, removed.describe()
        unchanged(api, path, before, removed)
    else:
        assert 400 <= status < 500, answer.describe()
        unchanged(api, path, before, answer)
    api.still_up(answer)


FILE_NUMBERS = ["99999999999999999999", "-1", "0", "1", "2", "1e5", "abc", "", "1.0", "+1", " 1", "0x1", "١", "१",
                "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e400", "NaN", "1%00", "%zz", "%"]


@given(query=st.one_of(
    st.sampled_from(FILE_NUMBERS).map(lambda n: "file=" + (n if n.startswith("%") else urllib.parse.quote(n, safe=""))),
    st.integers(-(2**70), 2**70).map(lambda n: f"file={n}"),
    st.text(max_size=20).map(lambda t: "file=" + urllib.parse.quote(t, safe="")),
    st.sampled_from(["file=1&file=2", "file=2&file=1", "file[]=1", "file[x]=1", "file", "=1", "file=" + "9" * 10_000,
                     "file[" * 200 + "]" * 200 + "=1", "&&&&", "file=1;file=2"]),
))
@sweep(30)
def test_document_file_number(api, document, query):
    path = f"/api/v1/me/documents/{document['id']}/content?{query}"
    answer = api.stream("GET", path, headers={"Authorization": f"Bearer {api.token}"})
    status = api.no_server_error(answer)
    assert status in (200, 400, 404, 422), answer.describe()
    if status == 200:
        assert answer.content == document["bytes"], "200 with other bytes than the one file:\n" + answer.describe()
    api.still_up(answer)


IDS = ["0", "-1", "99999999999999999999999999", "1e300", "null", "undefined", "00000000-0000-0000-0000-000000000000",
       "ffffffff-ffff-ffff-ffff-ffffffffffff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "x" * 10_000, "\x00", "..", "/",
       "é", "😀", "'; DROP TABLE documents;--", "{{7*7}}", "#(id)", " ", "%", "00000000-0000-0000-0000-00000000000g",
       "00000000000000000000000000000000", "{00000000-0000-0000-0000-000000000000}"]
WATCHED = ["/api/v1/me/documents", "/api/v1/me/guarantors", "/api/v1/me/application"]
ROUTES = [("GET", "/api/v1/me/documents/{}/content"), ("DELETE", "/api/v1/me/documents/{}"),
          ("DELETE", "/api/v1/me/guarantors/{}"), ("GET", "/api/v1/me/application/members/{}/documents/{}/content"),
          ("GET", "/api/v1/staff/documents/{}/content"), ("POST", "/api/v1/staff/documents/{}/review"),
          ("POST", "/api/v1/me/application/members/{}/approve"), ("DELETE", "/api/v1/me/application/members/{}"),
          ("POST", "/api/v1/staff/tenants/{}/documents"), ("GET", "/privacy/versions/{}"),
          ("DELETE", "/api/v1/me/shares/{}"), ("POST", "/api/v1/me/shares/{}/pause"), ("POST", "/api/v1/me/shares/{}/resume"),
          ("GET", "/api/v1/me/shares/{}/accesses"), ("DELETE", "/api/v1/me/certificates/{}"),
          ("GET", "/api/v1/me/certificates/{}/certificate.pdf"),
          # A share link's token and a certificate's code, made up: 404, or 429 once guessing is slowed down.
          ("GET", "/s/{}"), ("GET", "/s/{}/documents/{}"), ("GET", "/s/{}/file.pdf"), ("GET", "/verify/{}"),
          # An organisation's inbox and members, as its administrator.
          ("GET", "/api/v1/organisation/inbox/{}"), ("GET", "/api/v1/organisation/inbox/{}/documents/{}"),
          ("GET", "/api/v1/organisation/inbox/{}/file.zip"), ("DELETE", "/api/v1/organisation/members/{}"),
          ("GET", "/organisation/join?token={}")]


@given(route=st.sampled_from(ROUTES), data=st.data())
@sweep(50)
def test_path_ids(api, document, organisation, route, data):
    method, template = route
    real = document["id"]
    # Variants of the real id only where reading it back is harmless.
    known = [real.upper(), "{" + real + "}", real + "x", real.replace("-", "")] if method == "GET" else []
    ids = st.one_of(st.sampled_from(IDS + known), st.builds(lambda: str(uuid.uuid4())), st.text(max_size=40))
    segments = [q(data.draw(ids, label="id")) for _ in range(template.count("{}"))]
    path = template.format(*segments)
    # What the tenant reads, from the previous example (nothing here may change it).
    before = api.state.get("watched") or [snapshot(api, watched) for watched in WATCHED]
    body = b'{"decision": "validated"}' if method == "POST" else None
    # The organisation's routes as its administrator, so that the id reaches the code behind it.
    auth = organisation["token"] if template.startswith("/api/v1/organisation/") else True
    answer = api.send(method, path, body=body, content_type="application/json" if body else None,
                      headers={"Accept": "application/json"}, auth=auth)
    status = api.no_server_error(answer)
    if status == 200 and template == "/api/v1/me/documents/{}/content":
        assert answer.content == document["bytes"], answer.describe()
    elif not template.startswith("/privacy/"):  # there, any answer below 500 will do
        assert 400 <= status < 500, answer.describe()
    api.state["watched"] = [unchanged(api, watched, snap, answer) for watched, snap in zip(WATCHED, before)]
    api.still_up(answer)


# MARK: Applications

kinds = mostly(st.sampled_from(["alone", "couple", "group", "Alone", "", "solo"]).map(jstr))


@given(body=record({"kind": kinds}))
@sweep(20)
def test_create_application(api, body):
    path = "/api/v1/me/application"
    before = snapshot(api, path)
    answer = api.send("POST", path, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    if status == 201:
        assert before[0] == 404, "a second application was created:\n" + answer.describe()
        api.state["join_code"] = answer.json().get("joinCode")
        assert api.get_json(path)["id"] == answer.json()["id"], answer.describe()
    else:
        assert 400 <= status < 500, answer.describe()
        unchanged(api, path, before, answer)
    api.still_up(answer)


@given(data=st.data())
@sweep(20)
def test_join_application(api, data):
    path = "/api/v1/me/application"
    if not api.state.get("join_code") and api.send("GET", path).status == 404:
        created = api.send("POST", path, json_body={"kind": "group"})
        assert created.status == 201, created.describe()
        api.state["join_code"] = created.json().get("joinCode")
    code = api.state.get("join_code") or "no-code"
    variants = [code, code.upper(), code.lower(), f" {code} ", code + "=", code[:-1], code + "\x00", code * 100]
    body = data.draw(record({"code": mostly(st.sampled_from(variants).map(jstr))}), label="body")
    before = snapshot(api, path)
    answer = api.send("POST", f"{path}/join", body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    # The tenant is already a member of an application: joining one is always refused.
    assert 400 <= status < 500, answer.describe()
    unchanged(api, path, before, answer)
    api.still_up(answer)


# MARK: Email verification, with odd languages

latin1_headers = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=200) \
    .map(str.lstrip)
ACCEPT_LANGUAGES = ["fr;q=1e400", "en;q=nan", "en;q=-0", "en;q=inf", "*", "en-US,en;q=0.9,fr;q=0.8", "x" * 8000,
                    ";;;,,,", "fr;q=" + "9" * 400, "en;q=0," * 500, "e"]
LANGS = ["fr", "en", "", "de", "FR", "fr-FR", "x" * 5000, "%00", "%zz", "fr&lang=en"]


@given(data=st.data())
@sweep(25)
def test_verify_token(api, data):
    used = api.state["verification"]
    body = data.draw(record({"token": mostly(st.sampled_from([used, used + "=", used.upper(), "", "x" * 10_000]).map(jstr))}), label="body")
    headers = {"Accept-Language": data.draw(st.one_of(st.sampled_from(ACCEPT_LANGUAGES), latin1_headers), label="Accept-Language")}
    lang = data.draw(st.one_of(st.none(), st.sampled_from(LANGS), st.text(max_size=10).map(q)), label="lang")
    path = "/api/v1/accounts/verify" + ("" if lang is None else f"?lang={lang}")
    me = account_facts(api)
    answer = api.stream("POST", path, headers={**headers, "Content-Type": "application/json"}, body=body.text)
    status = api.no_server_error(answer)
    # The only real token was used when the test account was confirmed.
    assert 400 <= status < 500, answer.describe()
    assert account_facts(api) == me, "a refused verification changed the account:\n" + answer.describe()
    api.still_up(answer)


def account_facts(api):
    """What a verification may change on the account (not its activity times)."""
    me = api.get_json("/api/v1/me")
    return {key: me.get(key) for key in ("id", "email", "firstName", "lastName", "role", "emailVerified")}


AUTHORIZATIONS = ["Bearer", "Bearer ", "bearer x", "Basic Og==", "Bearer " + "x" * 8000, "Bearer 1e300",
                  "Bearer null", "Bearer {{7*7}}", "Bearer TOKENx", "Bearer TOKEN[:-1]", "Bearer TOKEN.upper()",
                  "Bearer TOKEN TOKEN", "Bearer\tTOKEN", "Token TOKEN", "bearer TOKEN", "Bearer  TOKEN"]


def with_token(value, token):
    """Puts the real token in a template of AUTHORIZATIONS."""
    return (value.replace("TOKEN[:-1]", token[:-1]).replace("TOKEN.upper()", token.upper())
            .replace("TOKEN", token))


def test_control_characters_in_a_header(api):
    """A NUL or another control byte in a header value is not HTTP (RFC 9110 §5.5): the server's
    HTTP parser may close the connection without an answer, but the server must stay up and
    sign nobody in."""
    for value in ("Bearer \x00", "Bearer \x01" + api.token, "Bearer " + api.token + "\x00"):
        answer = api.stream("GET", "/api/v1/me", headers={"Authorization": value}, allow_no_answer=True)
        if answer is None:
            assert requests.get(api.server.url + "/health", timeout=10).status_code == 200
        else:
            assert 400 <= answer.status < 500, answer.describe()
            api.still_up(answer)


@given(value=st.one_of(latin1_headers, st.sampled_from(AUTHORIZATIONS)))
@sweep(20)
def test_authorization_header(api, value):
    token = api.token
    value = with_token(value, token)
    answer = api.send("GET", "/api/v1/me", auth=False, headers={"Authorization": value})
    status = api.no_server_error(answer)
    if status == 200:
        parts = value.split()
        assert len(parts) == 2 and parts[0].lower() == "bearer" and parts[1] == token, (
            "signed in without the token:\n" + answer.describe())
    else:
        assert status in (400, 401, 403), answer.describe()
    api.still_up(answer)


# MARK: Password reset (the second account, its live token)

@given(data=st.data())
@sweep(25)
def test_password_reset(api, data):
    token = api.state["reset"]
    body = data.draw(record({
        "token": mostly(st.sampled_from([token, token, token + "x", token[:-1], token.upper(), f" {token} "]).map(jstr)),
        "password": passwords,
    }), label="body")
    answer = api.send("POST", "/api/v1/password/reset", auth=False, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    assert status == 204 or 400 <= status < 500, answer.describe()
    if status == 204:
        assert not api.state.get("reset_used"), "a used reset token worked again:\n" + answer.describe()
        api.state["reset_used"] = True
        password = json.loads(body.text).get("password")
        if isinstance(password, str):
            api.state["passwords"].add(password)
            api.secrets.add(password)
    elif status == 410 and f'"token":{jstr(token)}' in body.text.replace(" ", ""):
        assert api.state.get("reset_used"), "a refused reset used up the token:\n" + answer.describe()
    api.still_up(answer)


# MARK: Rate-limited routes: a few examples each

@given(body=record({
    "email": email_addresses(),
    "password": passwords,
    "firstName": names,
    "lastName": names,
    "language": st.one_of(st.sampled_from(["fr", "en", "de", "FR", ""]).map(jstr), values),
}))
@sweep(8)
def test_sign_up(api, body):
    answer = api.send("POST", "/api/v1/accounts", auth=False, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    assert status == 201 or 400 <= status < 500, answer.describe()
    if status == 201:
        sent = json.loads(body.text)  # accepted, so plain JSON (no 7,000-deep arrays)
        api.recipients.add(str(sent.get("email")).strip().lower())
        if isinstance(sent.get("password"), str):
            api.state["passwords"].add(sent["password"])
        for value in (sent.get("email"), sent.get("password")):
            if isinstance(value, str) and len(value) >= 12:
                api.secrets.add(value)
    api.still_up(answer)


@given(data=st.data())
@sweep(5)
def test_forgot_password(api, data):
    known = [api.state["main"]["email"], api.state["other"]["email"]]
    body = data.draw(record({"email": email_addresses(known)}), label="body")
    answer = api.send("POST", "/api/v1/password/forgot", auth=False, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    assert status == 202 or 400 <= status < 500, answer.describe()
    api.still_up(answer)


@given(data=st.data())
@sweep(12)
def test_sign_in(api, data):
    main = api.state["main"]
    body = data.draw(record({
        "email": email_addresses([main["email"], main["email"].upper(), f" {main['email']} "]),
        "password": mostly(st.sampled_from([main["password"] + "x", main["password"].upper(), ""]).map(jstr), passwords),
    }), label="body")
    answer = api.send("POST", "/api/v1/sessions", auth=False, body=body.text, content_type="application/json")
    status = api.no_server_error(answer)
    assert status == 201 or 400 <= status < 500, answer.describe()
    if status == 201:
        assert json.loads(body.text).get("password") in api.state["passwords"], "signed in with a wrong password:\n" + answer.describe()
        api.secrets.add(answer.json()["token"])
    api.still_up(answer)


# MARK: The end

def test_zz_server_survived_and_kept_secrets(server, api):
    """Runs last: the stored data still renders, mail went only to accepted addresses, the
    server never died, and its log holds no trap and no secret."""
    for path in ["/api/v1/me", "/api/v1/me/profile", "/api/v1/me/guarantors", "/api/v1/me/documents",
                 "/api/v1/me/completeness", "/api/v1/me/application", "/api/v1/me/connections"]:
        answer = api.send("GET", path)
        expected = (200, 404) if path.endswith("/application") else (200,)
        assert answer.status in expected, "stored data no longer renders:\n" + answer.describe()

    time.sleep(5)  # the outbox is written every 2 s
    strays = [(name, to) for name, to, _ in server.outbox() if to.lower() not in api.recipients]
    assert not strays, f"mail to addresses no accepted request gave: {strays}"

    assert not server.crashes, f"the server died {len(server.crashes)} time(s); the first:\n{server.crashes[0]}"
    assert server.running(), f"the server is not running; log:\n{server.log_tail()}"
    log = server.log_text()
    assert "Fatal error" not in log, "a Swift trap in the server log:\n" + "\n".join(
        line for line in log.splitlines() if "Fatal error" in line)[:2000]
    leaked = [secret[:6] + "…" for secret in api.secrets if secret and secret in log]
    assert not leaked, f"{len(leaked)} secret(s) in the server log (password, address or token), starting: {leaked}"
    assert not re.search(r"token=[A-Za-z0-9_-]{20}", log), "a link token in the server log"
