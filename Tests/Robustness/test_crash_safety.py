"""Crash safety: the server is killed with SIGKILL at a random moment of an upload, a deletion or
a review, started again, and checked: `dossier verify` finds database, blobs and keys in
agreement (no orphan blob, no missing one, audit chain intact), every upload the server
acknowledged is still listed and reads back byte for byte, and no file under the data directory
holds a document's plaintext.

The seed is printed; replay a failure with CRASH_SEED=<seed> (and CRASH_RUNS=<n>)."""
import hashlib
import os
import pathlib
import random
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

import requests

from conftest import UPLOADS, Server, _binary, free_port, pdf_upload, summary

RUNS = int(os.environ.get("CRASH_RUNS", "30"))
SEED = int(os.environ.get("CRASH_SEED", str(random.randrange(1 << 30))))
PASSWORD = "Quietly harbour lantern 42"
STAFF_PASSWORD = "a long operator passphrase"


def run_cli(binary, env, *args, stdin=None):
    return subprocess.run([binary, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def plaintext_on_disk(data_dir, needles):
    """Files under the data directory holding any of `needles` (pieces of a document's plaintext)."""
    found = []
    for path in pathlib.Path(data_dir).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if any(needle in content for needle in needles):
                found.append(str(path))
    return found


def clean_up(server, root):
    """Stops the server and removes its data, unless DOSSIER_KEEP_DATA asks to keep them."""
    if server is not None:
        server.stop()
    if os.environ.get("DOSSIER_KEEP_DATA"):
        print(f"crash safety: data and server.log kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def assert_erasures_finished(data_dir, erasures, what):
    """Every erasure (subject, completed_at) finished, and the erased person's key destroyed."""
    with sqlite3.connect(os.path.join(data_dir, "keys.sqlite")) as keys:
        for subject, completed in erasures:
            assert completed is not None, f"{what}: an erasure was left unfinished after the restart"
            live = keys.execute("SELECT count(*) FROM subject_keys WHERE subject = ? AND wrapped_key IS NOT NULL", (subject,)).fetchone()[0]
            assert live == 0, f"{what}: an erased person's key survived"


def test_sigkill_at_random_moments_loses_nothing_acknowledged():
    rng = random.Random(SEED)
    print(f"\ncrash safety: seed {SEED}, {RUNS} runs (replay with CRASH_SEED={SEED} CRASH_RUNS={RUNS})")
    binary = _binary()
    root = tempfile.mkdtemp(prefix="dossier-crash-")
    data_dir = os.path.join(root, "data")
    env = dict(os.environ, DOSSIER_DATA_DIR=data_dir, DATABASE_URL="")
    server = None
    pdf = (UPLOADS / "payslip.pdf").read_bytes()
    # Pieces of the plaintext that no sealed file may contain.
    needles = [pdf[i:i + 48] for i in (len(pdf) // 4, len(pdf) // 2, 3 * len(pdf) // 4)]
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        created = run_cli(binary, env, "user", "create", "--email", "crash-operator@example.org", "--role", "operator",
                          "--password-stdin", stdin=STAFF_PASSWORD + "\n")
        assert created.returncode == 0, created.stderr
        server = Server(binary, data_dir, free_port())
        http = requests.Session()
        email = "crash-tenant@example.org"
        answer = http.post(server.url + "/api/v1/accounts", json={"email": email, "password": PASSWORD, "firstName": "Kim",
                                                                  "lastName": "Crash", "language": "en"}, timeout=30)
        assert answer.status_code == 201, answer.text
        link = server.wait_for_link(email, "/verify-email")
        assert http.post(server.url + "/api/v1/accounts/verify", json={"token": link}, timeout=30).status_code == 200
        tenant = {"Authorization": "Bearer " + http.post(server.url + "/api/v1/sessions", json={"email": email, "password": PASSWORD},
                                                          timeout=30).json()["token"]}
        staff = {"Authorization": "Bearer " + http.post(server.url + "/api/v1/sessions",
                                                         json={"email": "crash-operator@example.org", "password": STAFF_PASSWORD},
                                                         timeout=30).json()["token"]}
        catalogue = http.get(server.url + "/api/v1/catalogue/documents", timeout=30).json()
        type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])

        acknowledged = set()   # documents the server said it stored
        # Two to start with, so that deletions and reviews have something from the first run.
        for _ in range(2):
            body, content_type = pdf_upload(type_id, pdf)
            reply = http.post(server.url + "/api/v1/me/documents", data=body, headers={**tenant, "Content-Type": content_type}, timeout=60)
            assert reply.status_code == 201, reply.text
            acknowledged.add(reply.json()["id"])
        uncertain = set()      # deletions cut short: gone or not, either is right
        counts = {"upload": 0, "delete": 0, "review": 0}
        for run in range(RUNS):
            operation = rng.choice(["upload", "upload", "delete", "review"]) if acknowledged else "upload"
            if len(acknowledged) >= 6:
                operation = rng.choice(["delete", "review"])
            counts[operation] += 1
            target = rng.choice(sorted(acknowledged)) if operation != "upload" else None
            delay = rng.uniform(0.0, 0.35)
            outcome = {}

            def act():
                try:
                    if operation == "upload":
                        body, content_type = pdf_upload(type_id, pdf)
                        reply = requests.post(server.url + "/api/v1/me/documents", data=body,
                                              headers={**tenant, "Content-Type": content_type}, timeout=30)
                        if reply.status_code == 201:
                            outcome["stored"] = reply.json()["id"]
                    elif operation == "delete":
                        reply = requests.delete(server.url + f"/api/v1/me/documents/{target}", headers=tenant, timeout=30)
                        outcome["deleted"] = reply.status_code == 204
                    else:
                        reply = requests.post(server.url + f"/api/v1/staff/documents/{target}/review", headers=staff,
                                              json={"decision": rng.choice(["validated", "declined"]), "reasons": ["illegible"]},
                                              timeout=30)
                        outcome["reviewed"] = reply.status_code
                except requests.RequestException:
                    outcome["cut"] = True

            worker = threading.Thread(target=act)
            worker.start()
            time.sleep(delay)
            server.process.kill()
            server.process.wait(timeout=30)
            worker.join(timeout=30)
            assert outcome.get("reviewed", 0) < 500, f"run {run + 1}: the review answered {outcome['reviewed']}"
            if "stored" in outcome:
                acknowledged.add(outcome["stored"])
            if operation == "delete":
                if outcome.get("deleted"):
                    acknowledged.discard(target)
                else:
                    uncertain.add(target)

            server.start()
            what = f"run {run + 1} ({operation}, killed after {delay * 1000:.0f} ms, seed {SEED})"
            verified = run_cli(binary, env, "verify")
            assert verified.returncode == 0, f"{what}: dossier verify failed:\n{verified.stdout}\n{verified.stderr}"
            listed = {entry["id"] for entry in
                      requests.get(server.url + "/api/v1/me/documents", headers=tenant, timeout=30).json()}
            for document in list(uncertain):
                if document not in listed:
                    acknowledged.discard(document)
                uncertain.discard(document)
            lost = acknowledged - listed
            assert not lost, f"{what}: acknowledged uploads lost: {sorted(lost)}"
            # Uploads committed though their answer was cut are kept and must read back too.
            acknowledged |= listed
            for document in acknowledged:
                content = requests.get(server.url + f"/api/v1/me/documents/{document}/content", headers=tenant, timeout=30)
                assert content.status_code == 200, f"{what}: document {document} answers {content.status_code}"
                assert hashlib.sha256(content.content).hexdigest() == digest, f"{what}: document {document} reads back altered"
            leaks = plaintext_on_disk(data_dir, needles)
            assert not leaks, f"{what}: plaintext on disk in {leaks}"
        assert min(counts.values()) > 0 or RUNS < 20, f"some operation was never cut short: {counts}"
        # Printed at the end of the run: .ci/run collects this line into its summary.
        summary(f"crash safety: {RUNS} SIGKILL runs ({counts['upload']} uploads, {counts['delete']} deletions, "
                f"{counts['review']} reviews, seed {SEED}), {len(acknowledged)} documents at the end, all consistent")
    finally:
        clean_up(server, root)


def verified_tenant(server, email, last_name, type_id, pdf, documents):
    """Signs up `email`, follows the emailed link, signs in and uploads `documents` copies of
    `pdf`; returns the tenant's authorization header."""
    answer = requests.post(server.url + "/api/v1/accounts", json={"email": email, "password": PASSWORD, "firstName": "Kim",
                                                                 "lastName": last_name, "language": "en"}, timeout=30)
    assert answer.status_code == 201, answer.text
    link = server.wait_for_link(email, "/verify-email")
    assert requests.post(server.url + "/api/v1/accounts/verify", json={"token": link}, timeout=30).status_code == 200
    auth = {"Authorization": "Bearer " + requests.post(server.url + "/api/v1/sessions", json={"email": email, "password": PASSWORD},
                                                       timeout=30).json()["token"]}
    for _ in range(documents):
        body, content_type = pdf_upload(type_id, pdf)
        reply = requests.post(server.url + "/api/v1/me/documents", data=body, headers={**auth, "Content-Type": content_type}, timeout=60)
        assert reply.status_code == 201, reply.text
    return auth


ERASURE_RUNS = int(os.environ.get("CRASH_ERASURE_RUNS", "8"))


def test_sigkill_during_an_erasure_leaves_no_half_erased_person():
    """A tenant with documents and a guarantor deletes their account and the server is killed at a
    random moment. Started again, the person is either whole (every document reads back) or gone:
    no account, the erasure recorded and finished (their key destroyed), `dossier verify` clean.
    An erasure the server acknowledged is always the second."""
    rng = random.Random(SEED + 1)
    binary = _binary()
    root = tempfile.mkdtemp(prefix="dossier-crash-erasure-")
    data_dir = os.path.join(root, "data")
    env = dict(os.environ, DOSSIER_DATA_DIR=data_dir, DATABASE_URL="")
    server = None
    pdf = (UPLOADS / "payslip.pdf").read_bytes()
    digest = hashlib.sha256(pdf).hexdigest()
    outcomes = {"whole": 0, "erased": 0}
    try:
        server = Server(binary, data_dir, free_port())
        catalogue = requests.get(server.url + "/api/v1/catalogue/documents", timeout=30).json()
        type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
        for run in range(ERASURE_RUNS):
            email = f"crash-erase-{run}@example.org"
            tenant = verified_tenant(server, email, "Crash", type_id, pdf, documents=2)
            added = requests.post(server.url + "/api/v1/me/guarantors", headers=tenant, json={"kind": "guarantor", "name": "Paul Garant"}, timeout=30)
            assert added.status_code == 201, added.text
            delay = rng.uniform(0.0, 0.12)
            outcome = {}

            def erase():
                try:
                    outcome["status"] = requests.delete(server.url + "/api/v1/me", headers=tenant, timeout=30).status_code
                except requests.RequestException:
                    outcome["cut"] = True

            worker = threading.Thread(target=erase)
            worker.start()
            time.sleep(delay)
            server.process.kill()
            server.process.wait(timeout=30)
            worker.join(timeout=30)
            server.start()
            what = f"erasure run {run + 1} (killed after {delay * 1000:.0f} ms, seed {SEED})"
            verified = run_cli(binary, env, "verify")
            assert verified.returncode == 0, f"{what}: dossier verify failed:\n{verified.stdout}\n{verified.stderr}"
            signed_in = requests.post(server.url + "/api/v1/sessions", json={"email": email, "password": PASSWORD}, timeout=30)
            if signed_in.status_code in (200, 201):
                assert outcome.get("status") != 200, f"{what}: the erasure was acknowledged but the account is still there"
                auth = {"Authorization": "Bearer " + signed_in.json()["token"]}
                listed = requests.get(server.url + "/api/v1/me/documents", headers=auth, timeout=30).json()
                assert len(listed) == 2, f"{what}: half erased: {len(listed)} documents left"
                for entry in listed:
                    content = requests.get(server.url + f"/api/v1/me/documents/{entry['id']}/content", headers=auth, timeout=30)
                    assert content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == digest, f"{what}: a document no longer reads"
                guarantors = requests.get(server.url + "/api/v1/me/guarantors", headers=auth, timeout=30).json()
                assert len(guarantors) == 1, f"{what}: half erased: {len(guarantors)} guarantors left"
                outcomes["whole"] += 1
            else:
                assert signed_in.status_code == 401, f"{what}: sign-in answered {signed_in.status_code}"
                with sqlite3.connect(os.path.join(data_dir, "dossier.sqlite")) as data:
                    assert data.execute("SELECT count(*) FROM accounts WHERE email_key = ?", (email,)).fetchone()[0] == 0
                    erasures = data.execute("SELECT subject, completed_at FROM erasures").fetchall()
                assert_erasures_finished(data_dir, erasures, what)
                outcomes["erased"] += 1
        summary(f"crash safety: {ERASURE_RUNS} SIGKILL runs during erasures ({outcomes['erased']} erased, {outcomes['whole']} whole, "
                f"none half-erased; seed {SEED})")
    finally:
        clean_up(server, root)


SWEEP_RUNS = int(os.environ.get("CRASH_SWEEP_RUNS", "6"))


def halt(server):
    """Stops the server (its log stays open, for the next start)."""
    server.process.terminate()
    server.process.wait(timeout=30)


def test_sigkill_during_a_retention_sweep_is_finished_by_the_next():
    """Tenants with documents and a share link; `dossier retention run --at` two years on is killed
    at random moments, again and again. After each kill the data agrees (`dossier verify`, once the
    server's start has finished what the crash left), every document is whole or gone, never half;
    the next run finishes the sweep: documents, links and connections gone, accounts reminded,
    then (30 days on) erased with their keys destroyed."""
    rng = random.Random(SEED + 2)
    binary = _binary()
    root = tempfile.mkdtemp(prefix="dossier-crash-sweep-")
    data_dir = os.path.join(root, "data")
    env = dict(os.environ, DOSSIER_DATA_DIR=data_dir, DATABASE_URL="", DOSSIER_RETENTION_INTERVAL="off")
    server = None
    pdf = (UPLOADS / "payslip.pdf").read_bytes()
    digest = hashlib.sha256(pdf).hexdigest()
    tenants = []
    try:
        server = Server(binary, data_dir, free_port())
        server.env["DOSSIER_RETENTION_INTERVAL"] = "off"
        halt(server)
        server.start()
        catalogue = requests.get(server.url + "/api/v1/catalogue/documents", timeout=30).json()
        type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
        for index in range(4):
            email = f"crash-sweep-{index}@example.org"
            auth = verified_tenant(server, email, "Sweep", type_id, pdf, documents=3)
            shared = requests.post(server.url + "/api/v1/me/shares", headers=auth, timeout=30, json={
                "recipient": {"name": "Agence Dupont", "email": "contact@agence-dupont.example", "kind": "agency"}, "purpose": "Visite"})
            assert shared.status_code == 201, shared.text
            tenants.append(email)
        halt(server)

        def sweep_killed(at, what):
            process = subprocess.Popen([binary, "retention", "run", "--at", at], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            delay = rng.uniform(0.05, 1.5)
            time.sleep(delay)
            process.kill()
            process.wait(timeout=30)
            # The server's start finishes what the crash left (blob deletions, erasures' keys).
            server.start()
            halt(server)
            verified = run_cli(binary, env, "verify")
            assert verified.returncode == 0, f"{what} (killed after {delay * 1000:.0f} ms, seed {SEED}): dossier verify failed:\n{verified.stdout}\n{verified.stderr}"
            with sqlite3.connect(os.path.join(data_dir, "dossier.sqlite")) as data:
                for (document,) in data.execute("SELECT id FROM documents").fetchall():
                    files = data.execute("SELECT count(*) FROM document_files WHERE document_id = ?", (document,)).fetchone()[0]
                    assert files == 1, f"{what}: a document half deleted ({files} files)"

        later = "2028-12-31T00:00:00Z"
        for run in range(SWEEP_RUNS):
            sweep_killed(later, f"sweep run {run + 1}")
        finished = run_cli(binary, env, "retention", "run", "--at", later)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        with sqlite3.connect(os.path.join(data_dir, "dossier.sqlite")) as data:
            assert data.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
            assert data.execute("SELECT count(*) FROM shares").fetchone()[0] == 0
            assert data.execute("SELECT count(*) FROM connection_events").fetchone()[0] == 0
            reminded = data.execute("SELECT count(*) FROM accounts WHERE inactivity_reminded_at IS NOT NULL").fetchone()[0]
            assert reminded == len(tenants), f"{reminded} of {len(tenants)} reminded"
        # Thirty days on, without an answer: the accounts are erased, killed or not.
        closing = "2029-01-31T00:00:00Z"
        for run in range(SWEEP_RUNS // 2):
            sweep_killed(closing, f"closing run {run + 1}")
        finished = run_cli(binary, env, "retention", "run", "--at", closing)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        with sqlite3.connect(os.path.join(data_dir, "dossier.sqlite")) as data:
            assert data.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
            erasures = data.execute("SELECT subject, completed_at FROM erasures").fetchall()
        assert len(erasures) == len(tenants)
        assert_erasures_finished(data_dir, erasures, "closing")
        summary(f"crash safety: {SWEEP_RUNS + SWEEP_RUNS // 2} SIGKILL runs during retention sweeps, each finished by the next "
                f"({len(tenants)} tenants: documents, links, connections gone; accounts reminded, then erased; seed {SEED})")
    finally:
        clean_up(server, root)
