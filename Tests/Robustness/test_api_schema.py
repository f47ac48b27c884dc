"""The OpenAPI document, checked against a real server rather than trusted.

1. `openapi-spec-validator` validates `/openapi.json` (OpenAPI 3.1).
2. schemathesis generates requests from it, valid and invalid, for every operation, as a
   tenant and as a staff operator, the organisation's operations as its administrator (and
   sign-out with a token of its own, since it ends the session), and checks every answer with all of its checks: no server error, status code
   documented, content type documented, body conforming to the schema (response objects are
   closed: a field the document does not name fails), valid data accepted, invalid data
   rejected, 405 and `Allow` for undeclared methods, authentication not ignored. Path ids are
   half the time real ones (the tenant's document, guarantor and account), so that the
   requests reach the code behind them, not only the 404 of ids that name nothing.

Where a JSON Schema cannot state a rule the server rightly enforces, `schemathesis.toml`
names, for that operation only, the refusals the rule gives: sign-up (a password must not be
a common one or hold the person's name) and the two uploads (a file must really be a PDF or
an image, within the quota; too many files is a 413).

Run alone: `python3 -m pytest -q -p no:cacheprovider Tests/Robustness/test_api_schema.py`;
`SCHEMA_EXAMPLES` (per operation and phase, default 40) and `SCHEMA_SEED` replay a run.
"""
import json
import os
import pathlib
import random
import secrets
import shutil
import subprocess
import sys
import tempfile

import requests
from openapi_spec_validator import validate

from conftest import Server, _binary, confirm_address, free_port, summary

HERE = pathlib.Path(__file__).resolve().parent
UPLOADS = HERE.parent / "Fixtures" / "uploads"
EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "40"))
SEED = int(os.environ.get("SCHEMA_SEED", str(random.randrange(1, 2**63))))
MINIMUM_REQUESTS = 5000
STAFF_PASSWORD = "a long operator passphrase for fuzzing"


def write_config(report_dir, ids):
    """schemathesis.toml, and a dictionary of real ids offered for every path id half the time."""
    config = report_dir / "schemathesis.toml"
    lines = [(HERE / "schemathesis.toml").read_text(), "", "[dictionaries.ids]", f"values = {json.dumps(ids)}", "", "[parameters]"]
    lines += [f'"path.{name}" = {{ dictionary = "ids", probability = 0.5 }}'
              for name in ("document", "guarantor", "account", "member", "partner", "received", "colleague")]
    config.write_text("\n".join(lines) + "\n")
    return config


def run_schemathesis(url, token, report_dir, config, name, include=None, exclude=None, examples=EXAMPLES):
    """One schemathesis run; returns (exit code, its JSON report, requests sent, console output)."""
    har = report_dir / f"{name}.har"
    report = report_dir / f"{name}.json"
    # The CLI through this Python, wherever pip put its `st` script.
    command = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis(prog_name='st')", "--config-file", str(config), "run", url + "/openapi.json",
               "--checks", "all", "--max-examples", str(examples), "--seed", str(SEED),
               "--request-timeout", "30", "--report", "har,json",
               "--report-har-path", str(har), "--report-json-path", str(report)]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    for operation in include or []:
        command += ["--include-name", operation]
    for operation in exclude or []:
        command += ["--exclude-name", operation]
    # In the report directory: schemathesis keeps a cache in ./.schemathesis.
    finished = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=report_dir)
    sent = len(json.loads(har.read_text())["log"]["entries"]) if har.exists() else 0
    return finished.returncode, json.loads(report.read_text()) if report.exists() else {}, sent, finished.stdout + finished.stderr


def sign_in(url, email, password):
    answer = requests.post(url + "/api/v1/sessions", json={"email": email, "password": password}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def test_the_document_holds_for_thousands_of_generated_requests():
    print(f"\nAPI schema: seed {SEED}, {EXAMPLES} examples per operation (replay with SCHEMA_SEED={SEED})")
    binary = _binary()
    root = pathlib.Path(tempfile.mkdtemp(prefix="dossier-schema-"))
    data_dir = root / "data"
    env = dict(os.environ, DOSSIER_DATA_DIR=str(data_dir), DATABASE_URL="")
    server = None
    try:
        created = subprocess.run([binary, "user", "create", "--email", "fuzz-operator@example.org", "--role", "operator",
                                  "--password-stdin"], input=STAFF_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120)
        assert created.returncode == 0, created.stderr
        server = Server(binary, data_dir, free_port())
        url = server.url

        document = requests.get(url + "/openapi.json", timeout=30)
        assert document.status_code == 200
        validate(document.json())

        # A verified tenant with a document and a guarantor, so that the generated requests
        # reach the code behind the ids, not only the 404 of ids that name nothing.
        email, password = f"fuzz-{secrets.token_hex(4)}@example.org", f"Lantern harbour {secrets.token_hex(4)} quietly"
        signed_up = requests.post(url + "/api/v1/accounts", json={"email": email, "password": password, "firstName": "Sacha",
                                                                  "lastName": "Schema", "language": "en"}, timeout=30)
        assert signed_up.status_code == 201, signed_up.text
        verified = requests.post(url + "/api/v1/accounts/verify", json={"token": server.wait_for_link(email, "/verify-email")}, timeout=30)
        assert verified.status_code == 200, verified.text
        tenant = sign_in(url, email, password)
        headers = {"Authorization": f"Bearer {tenant}"}
        catalogue = requests.get(url + "/api/v1/catalogue/documents", timeout=30).json()
        type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
        uploaded = requests.post(url + "/api/v1/me/documents", headers=headers, data={"type": type_id},
                                 files={"file": ("payslip.pdf", (UPLOADS / "payslip.pdf").read_bytes(), "application/pdf")}, timeout=60)
        assert uploaded.status_code == 201, uploaded.text
        added = requests.post(url + "/api/v1/me/guarantors", headers=headers, json={"kind": "guarantor", "name": "Alex Garant"}, timeout=30)
        assert added.status_code == 201, added.text
        staff = sign_in(url, "fuzz-operator@example.org", STAFF_PASSWORD)
        # An agency registered with its address and its administrator (invited from the command
        # line, joined through the emailed link), and the tenant's whole file shared with it.
        agency_address, boss = "fuzz-agency@example.org", "fuzz-boss@example.org"
        created = subprocess.run([binary, "organisation", "create", "--name", "Agence Fuzz", "--kind", "agency", "--email", agency_address,
                                  "--language", "en"], env=env, capture_output=True, text=True, timeout=120)
        assert created.returncode == 0, created.stderr
        confirm_address(server, agency_address)
        invited = subprocess.run([binary, "organisation", "invite", created.stdout.split()[-1], "--email", boss, "--admin"],
                                 env=env, capture_output=True, text=True, timeout=120)
        assert invited.returncode == 0, invited.stderr
        joined = requests.post(url + "/api/v1/organisation/join", json={"token": server.wait_for_link(boss, "/organisation/join"),
                                                                       "firstName": "Bea", "lastName": "Bellamy", "password": STAFF_PASSWORD}, timeout=30)
        assert joined.status_code == 201, joined.text
        organisation = sign_in(url, boss, STAFF_PASSWORD)
        shared = requests.post(url + "/api/v1/me/shares", headers=headers, json={
            "recipient": {"name": "Agence Fuzz", "email": agency_address, "kind": "agency"}, "purpose": "Visit"}, timeout=30)
        assert shared.status_code == 201, shared.text
        signing_out = sign_in(url, email, password)
        # A tenant of their own for restriction and erasure, with a document to hold back.
        rights_email = f"fuzz-rights-{secrets.token_hex(4)}@example.org"
        signed_up = requests.post(url + "/api/v1/accounts", json={"email": rights_email, "password": password, "firstName": "Riley",
                                                                  "lastName": "Rights", "language": "en"}, timeout=30)
        assert signed_up.status_code == 201, signed_up.text
        verified = requests.post(url + "/api/v1/accounts/verify", json={"token": server.wait_for_link(rights_email, "/verify-email")}, timeout=30)
        assert verified.status_code == 200, verified.text
        account = requests.get(url + "/api/v1/me", headers=headers, timeout=30).json()["id"]
        # Less one: schemathesis leaves out the operation that serves the document itself.
        operation_count = sum(len(item) for item in document.json()["paths"].values()) - 1

        reports = root / "reports"
        reports.mkdir()
        config = write_config(reports, [uploaded.json()["id"], added.json()["id"], account, shared.json()["id"], joined.json()["id"]])
        sign_out = "DELETE /api/v1/sessions/current"
        # Staff first: the tenant's run deletes the real document and guarantor along the way.
        # The organisation's operations as its administrator (as anyone else, they are 403).
        organisation_operations = [f"{method.upper()} {path}" for path, item in document.json()["paths"].items()
                                   if path.startswith("/api/v1/organisation") and path != "/api/v1/organisation/join" for method in item]
        # Restricting and erasing change what every other operation answers: they run last, as
        # a tenant of their own.
        rights = ["GET /api/v1/me/restriction", "POST /api/v1/me/restriction", "DELETE /api/v1/me/restriction", "DELETE /api/v1/me"]
        runs = [
            ("staff", staff, None, [sign_out]),
            ("organisation", organisation, organisation_operations, None),
            ("tenant", tenant, None, [sign_out] + rights),
            ("sign-out", signing_out, [sign_out], None),
            ("rights", sign_in(url, rights_email, password), rights, None),
        ]
        failures, total = [], 0
        for name, token, include, exclude in runs:
            code, report, sent, output = run_schemathesis(url, token, reports, config, name, include, exclude)
            total += sent
            # No operations at all when schemathesis stopped before testing (the document did not
            # load, a fatal error): its own output says why.
            operations = report.get("operations") or {}
            # Every operation the run selected was tested: none skipped, none errored.
            expected = len(include) if include else operation_count - len(exclude or [])
            if (operations.get("selected"), operations.get("tested")) != (expected, expected) or operations.get("errored") or operations.get("skipped"):
                failures.append(f"--- schemathesis as {name}: operations {operations or None}, expected {expected} tested "
                                f"(stopped: {report.get('stop_reason')}, errors: {report.get('errors')})\n{output[-6000:]}")
            if code != 0 or report.get("failures") or report.get("errors"):
                failures.append(f"--- schemathesis as {name}: exit {code}\n{output[-12000:]}")
        assert server.running(), "the server died during the run:\n" + server.log_tail()
        assert not failures, "\n".join(failures)
        assert total >= MINIMUM_REQUESTS, f"only {total} requests sent; raise SCHEMA_EXAMPLES"
        summary(f"API schema: {total} requests sent by schemathesis as tenant, staff and organisation, 0 failures "
                f"(seed {SEED}, {EXAMPLES} examples per operation)")
    finally:
        if server:
            server.stop()
        if os.environ.get("DOSSIER_KEEP_DATA"):
            print(f"API schema: data, server.log and reports kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
