#!/usr/bin/env python3
"""Dossier's benchmark: measurements beside ceilings taken on the same machine in the same run.

Starts `BINARY serve` on loopback with a private data directory, signs a tenant up over the
JSON API (confirming the address from the `.eml` outbox), uploads a few documents, then measures:

- read throughput and latency with wrk: `GET /health` (the ceiling), `GET /api/v1/me/documents`
  and `GET /api/v1/me/profile`, at 16 and 64 connections;
- a 10 MiB PDF upload, end to end, against `dd ... conv=fsync` of the same bytes into the same
  data directory, and its MB/s beside `openssl speed -evp aes-256-gcm` on one core;
- sharing: a watermarked 3-page scanned PDF (150 dpi A4) and a 4000 × 3000 JPEG delivered to a
  recipient, cold (rendered) and cached, against `pdftoppm` rendering the same scan at 150 dpi in
  the same run; the whole file of 10 documents as one watermarked PDF; the recipient's page and a
  cached document under wrk, against `GET /health`;
- the server's peak RSS (VmHWM).

Prints a Markdown table (and writes it to --output). Exit 0 even when a target is missed (it is a
measurement); exit 1 on a functional failure: a non-2xx answer, a socket error, a server crash.
Usually run through scripts/bench, which installs wrk and builds the release binary.
"""

import argparse
import datetime
import email
import email.policy
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PAYSLIP = os.path.join(REPO, "Tests", "Fixtures", "uploads", "payslip.pdf")

EMAIL = "bench@example.org"
PASSWORD = "correct horse battery staple"

CONNECTIONS = (16, 64)
# The targets hold at this connection count; the 16-connection rows are shown for their shape.
TARGET_CONNECTIONS = 64
READ_RATIO_TARGET = 0.50
P99_TARGET_MS = 20.0
UPLOAD_RATIO_TARGET = 3.0
RSS_TARGET_MB = 150.0

SHARE_COLD_TARGET = 2.0
SHARE_RUNS = 5
SHARE_PAGE_RATIO_TARGET = 0.50
WHOLE_FILE_DOCUMENTS = 10

UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_RUNS = 5
DD_RUNS = 5
SEED_DOCUMENTS = 5

INSTANCE_VARIABLES = {
    "DOSSIER_DATA_DIR", "DATABASE_URL", "DOSSIER_REGISTER", "DOSSIER_BASE_URL", "SMTP_URL", "SMTP_CA_FILE",
    "DOSSIER_MAIL_FROM", "DOSSIER_MASTER_KEY", "DOSSIER_MASTER_KEY_FILE", "DOSSIER_ALLOW_KEY_IN_DATA_DIR",
    "DOSSIER_TRUSTED_PROXIES", "DOSSIER_AUDIT_ANCHOR", "DOSSIER_ENV", "DOSSIER_KEYS_URL", "DOSSIER_BLOBS_URL",
    "DOSSIER_RETENTION_INTERVAL", "DOSSIER_LOG_FORMAT",
}


class Failure(Exception):
    """A functional failure: the run is not a measurement of a working server."""


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# MARK: The server


class Server:
    def __init__(self, binary, port, run_dir):
        self.binary = binary
        self.port = port
        self.data_dir = os.path.join(run_dir, "data")
        os.mkdir(self.data_dir, 0o700)
        self.log_path = os.path.join(run_dir, "server.log")
        self.process = None
        self.stopped_by_us = False
        self.base = f"http://127.0.0.1:{port}"

    def start(self):
        # A controlled instance whatever the caller's shell holds: embedded SQLite, mail as files in
        # the outbox, its own key file, the shipped register, a loopback development instance.
        # Other variables (DOSSIER_INSPECTOR, LOG_LEVEL...) pass through.
        env = {k: v for k, v in os.environ.items() if k not in INSTANCE_VARIABLES}
        env["DOSSIER_DATA_DIR"] = self.data_dir
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO,
            )
        log(f"server pid {self.process.pid} on {self.base}, data in {self.data_dir}, log in {self.log_path}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"the server exited during start-up (status {self.process.returncode})\n{self.log_tail()}")
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise Failure(f"GET /health did not answer 200 within 60 s\n{self.log_tail()}")

    def check_alive(self, during):
        if self.process is not None and self.process.poll() is not None:
            raise Failure(f"the server died during {during} (status {self.process.returncode})\n{self.log_tail()}")

    def peak_rss_kb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise Failure("no VmHWM in /proc/PID/status")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.stopped_by_us = True
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return "(no server log)"
        return "--- last lines of the server log ---\n" + "\n".join(text[-lines:])


# MARK: The tenant


def expect(response, status, what):
    if response.status_code != status:
        raise Failure(f"{what}: expected {status}, got {response.status_code}: {response.text[:500]}")
    return response


def confirmation_token(outbox, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.isdir(outbox):
            for name in sorted(os.listdir(outbox)):
                if not name.endswith(".eml"):
                    continue
                with open(os.path.join(outbox, name), "rb") as f:
                    message = email.message_from_binary_file(f, policy=email.policy.default)
                if EMAIL not in str(message.get("To", "")):
                    continue
                parts = message.walk() if message.is_multipart() else [message]
                for part in parts:
                    if part.get_content_maintype() != "text":
                        continue
                    for link in re.findall(r"https?://\S+", part.get_content()):
                        token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("token")
                        if token:
                            return token[0]
        time.sleep(0.25)
    raise Failure(f"no confirmation message with a token in {outbox} within {timeout} s")


def make_tenant(server):
    api = server.base + "/api/v1"
    expect(requests.post(api + "/accounts", json={
        "email": EMAIL, "password": PASSWORD, "firstName": "Bench", "lastName": "Mark",
    }, timeout=30), 201, "POST /api/v1/accounts")
    token = confirmation_token(os.path.join(server.data_dir, "outbox"))
    account = expect(requests.post(api + "/accounts/verify", json={"token": token}, timeout=30), 200,
                     "POST /api/v1/accounts/verify").json()
    if not account.get("emailVerified"):
        raise Failure(f"POST /api/v1/accounts/verify did not confirm the address: {account}")
    # Sign-in answers 201 Created (a session is created).
    session = requests.post(api + "/sessions", json={"email": EMAIL, "password": PASSWORD}, timeout=30)
    if session.status_code not in (200, 201):
        raise Failure(f"POST /api/v1/sessions: expected 201, got {session.status_code}: {session.text[:500]}")
    bearer = session.json().get("token")
    if not bearer:
        raise Failure(f"POST /api/v1/sessions returned no token: {session.text[:500]}")
    return bearer


def seed_documents(server, bearer):
    catalogue = expect(requests.get(server.base + "/api/v1/catalogue/documents", timeout=30), 200,
                       "GET /api/v1/catalogue/documents").json()
    known = {entry["id"] for entry in catalogue if not entry.get("forbidden")}
    for needed in ("payslips", "tax-notice"):
        if needed not in known:
            raise Failure(f"the catalogue has no document type '{needed}'")
    with open(PAYSLIP, "rb") as f:
        payslip = f.read()
    headers = {"Authorization": f"Bearer {bearer}"}
    for _ in range(SEED_DOCUMENTS):
        expect(requests.post(server.base + "/api/v1/me/documents", headers=headers, data={"type": "payslips"},
                             files={"file": ("payslip.pdf", payslip, "application/pdf")}, timeout=120),
               201, "POST /api/v1/me/documents (payslip.pdf)")
    listed = expect(requests.get(server.base + "/api/v1/me/documents", headers=headers, timeout=30), 200,
                    "GET /api/v1/me/documents").json()
    if len(listed) != SEED_DOCUMENTS:
        raise Failure(f"GET /api/v1/me/documents lists {len(listed)} documents, expected {SEED_DOCUMENTS}")


# MARK: Reads (wrk)

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not match:
        raise Failure(f"cannot read wrk's latency '{text}'")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output):
    result = {"non2xx": 0, "socket_errors": {}}
    match = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    if not match:
        raise Failure(f"no Requests/sec in wrk's output:\n{output}")
    result["rps"] = float(match.group(1))
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}(?:\.0+)?%\s+(\S+)", output, re.M)
        if not match:
            raise Failure(f"no {percentile}% latency in wrk's output:\n{output}")
        result[f"p{percentile}"] = to_ms(match.group(1))
    match = re.search(r"^\s*(\d+) requests in", output, re.M)
    result["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if match:
        result["non2xx"] = int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if match:
        result["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups())))
    return result


def run_wrk(url, bearer, connections, duration):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
               "-H", f"Authorization: Bearer {bearer}", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise Failure(f"wrk failed (status {done.returncode}):\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


# MARK: Upload


def make_pdf(size):
    """A one-page PDF with one extra, unfiltered stream object of `size` random bytes (a fixed
    seed: the same file every run), a classic cross-reference table with exact offsets."""
    content = b"0 0 1 rg 72 72 144 144 re f\n"
    payload = random.Random(20151437).randbytes(size)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def measure_uploads(server, bearer, pdf):
    session = requests.Session()
    headers = {"Authorization": f"Bearer {bearer}"}
    times = []
    for run in range(UPLOAD_RUNS):
        prepared = session.prepare_request(requests.Request(
            "POST", server.base + "/api/v1/me/documents", headers=headers, data={"type": "tax-notice"},
            files={"file": ("bench-10MiB.pdf", pdf, "application/pdf")},
        ))
        start = time.perf_counter()
        response = session.send(prepared, timeout=300)
        elapsed = time.perf_counter() - start
        expect(response, 201, f"POST /api/v1/me/documents (10 MiB PDF, run {run + 1})")
        times.append(elapsed)
        document = response.json()["id"]
        expect(session.delete(f"{server.base}/api/v1/me/documents/{document}", headers=headers, timeout=60),
               204, f"DELETE /api/v1/me/documents/{document}")
    return times


def measure_dd(pdf_path, data_dir):
    target = os.path.join(data_dir, "dd-test")
    times = []
    for _ in range(DD_RUNS):
        if os.path.exists(target):
            os.unlink(target)
        start = time.perf_counter()
        done = subprocess.run(["dd", f"if={pdf_path}", f"of={target}", "bs=1M", "conv=fsync"],
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise Failure(f"dd failed: {done.stderr}")
        times.append(elapsed)
    os.unlink(target)
    return times


def openssl_aes_gcm_mb_s():
    done = subprocess.run(["openssl", "speed", "-evp", "aes-256-gcm", "-seconds", "2", "-bytes", "16384"],
                          capture_output=True, text=True, timeout=120)
    for line in reversed(done.stdout.splitlines()):
        match = re.match(r"^\s*aes-256-gcm\s+([0-9.]+)k\s*$", line, re.I)
        if match:
            return float(match.group(1)) * 1000 / 1e6
    raise Failure(f"cannot read openssl speed's output:\n{done.stdout}{done.stderr}")


# MARK: Sharing


def make_scan(binary, run_dir):
    """A 3-page scanned PDF: each page a 150 dpi A4 raster (JPEG), as a scanner makes them. Made
    by dossier-render itself, without a watermark, from the payslip fixture."""
    renderer = os.path.join(os.path.dirname(binary), "dossier-render")
    with open(PAYSLIP, "rb") as f:
        payslip = f.read()
    job = {"parts": [{"file": {"kind": "pdf", "length": len(payslip)}}] * 3}
    done = subprocess.run([renderer], input=(json.dumps(job) + "\n").encode() + payslip * 3, capture_output=True, timeout=120)
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        raise Failure(f"dossier-render could not make the scan: {done.stderr.decode(errors='replace')[-500:]}")
    path = os.path.join(run_dir, "scan-3-pages.pdf")
    with open(path, "wb") as f:
        f.write(done.stdout)
    return path


def make_photo(scan, run_dir):
    """A 4000 × 3000 JPEG (a phone's photo of a document), from the scan's first page by pdftoppm."""
    base = os.path.join(run_dir, "photo")
    done = subprocess.run(["pdftoppm", "-jpeg", "-singlefile", "-f", "1", "-l", "1", "-scale-to-x", "4000", "-scale-to-y", "3000",
                           scan, base], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise Failure(f"pdftoppm could not make the photo: {done.stderr}")
    return base + ".jpg"


def pdftoppm_seconds(scan, run_dir):
    """The ceiling: poppler's own pdftoppm rendering every page of the scan at 150 dpi."""
    times = []
    for run in range(SHARE_RUNS):
        out = os.path.join(run_dir, f"ppm-{run}")
        start = time.perf_counter()
        done = subprocess.run(["pdftoppm", "-r", "150", scan, out], capture_output=True, text=True, timeout=120)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise Failure(f"pdftoppm failed: {done.stderr}")
        for name in os.listdir(run_dir):
            if name.startswith(f"ppm-{run}"):
                os.unlink(os.path.join(run_dir, name))
    return times


def upload_file(server, bearer, type_id, name, data, media):
    response = expect(requests.post(server.base + "/api/v1/me/documents", headers={"Authorization": f"Bearer {bearer}"},
                                    data={"type": type_id}, files={"file": (name, data, media)}, timeout=120),
                      201, f"POST /api/v1/me/documents ({name})")
    return response.json()["id"]


def new_share(server, bearer, documents=None):
    body = {"recipient": {"name": "Agence Bench", "email": "bench-agency@example.org", "kind": "agency"}, "purpose": "Benchmark"}
    if documents is not None:
        body["documentIds"] = documents
    response = expect(requests.post(server.base + "/api/v1/me/shares", headers={"Authorization": f"Bearer {bearer}"}, json=body, timeout=30),
                      201, "POST /api/v1/me/shares")
    return response.json()["url"].rsplit("/", 1)[1]


def timed_get(url, what):
    start = time.perf_counter()
    response = requests.get(url, timeout=300)
    elapsed = time.perf_counter() - start
    expect(response, 200, what)
    return elapsed, response


def measure_delivery(server, bearer, document, what):
    """Cold: the first download through each of SHARE_RUNS new links (each renders). Cached: the
    next SHARE_RUNS downloads through the last one."""
    cold, cached = [], []
    token = None
    for _ in range(SHARE_RUNS):
        token = new_share(server, bearer, [document])
        elapsed, response = timed_get(f"{server.base}/s/{token}/documents/{document}", f"GET /s/…/documents ({what}, cold)")
        if not response.content.startswith(b"%PDF-"):
            raise Failure(f"{what}: the delivery is not a PDF")
        cold.append(elapsed)
    for _ in range(SHARE_RUNS):
        elapsed, _ = timed_get(f"{server.base}/s/{token}/documents/{document}", f"GET /s/…/documents ({what}, cached)")
        cached.append(elapsed)
    return cold, cached, token


def measure_sharing(server, binary, bearer, run_dir, duration, table, failures):
    scan = make_scan(binary, run_dir)
    photo = make_photo(scan, run_dir)
    with open(scan, "rb") as f:
        scan_bytes = f.read()
    with open(photo, "rb") as f:
        photo_bytes = f.read()
    scan_id = upload_file(server, bearer, "tax-notice", "scan.pdf", scan_bytes, "application/pdf")
    photo_id = upload_file(server, bearer, "identity-card", "photo.jpg", photo_bytes, "image/jpeg")
    ceiling = statistics.median(pdftoppm_seconds(scan, run_dir))

    cold, cached, token = measure_delivery(server, bearer, scan_id, "3-page scan")
    ratio = statistics.median(cold) / ceiling
    table.add(f"watermarked 3-page scan (150 dpi A4), cold (median of {SHARE_RUNS})", fmt_s(statistics.median(cold)),
              f"{fmt_s(ceiling)} (`pdftoppm -r 150`, the same file, median of {SHARE_RUNS})", f"{ratio:.2f}",
              f"< {SHARE_COLD_TARGET:.0f}×", yes(ratio < SHARE_COLD_TARGET))
    table.add(f"watermarked 3-page scan, cached (median of {SHARE_RUNS})", fmt_s(statistics.median(cached)),
              f"{fmt_s(ceiling)} (`pdftoppm`)", f"{statistics.median(cached) / ceiling:.2f}", "(info)")
    photo_cold, photo_cached, _ = measure_delivery(server, bearer, photo_id, "4000×3000 JPEG")
    table.add(f"watermarked 4000 × 3000 JPEG, cold / cached (medians of {SHARE_RUNS})",
              f"{fmt_s(statistics.median(photo_cold))} / {fmt_s(statistics.median(photo_cached))}",
              f"{fmt_s(ceiling)} (`pdftoppm`, the scan)", f"{statistics.median(photo_cold) / ceiling:.2f} (cold)", "(info)")

    # The whole file of 10 documents: the scan, the photo and 8 one-page payslips.
    with open(PAYSLIP, "rb") as f:
        payslip = f.read()
    listed = expect(requests.get(server.base + "/api/v1/me/documents", headers={"Authorization": f"Bearer {bearer}"}, timeout=30),
                    200, "GET /api/v1/me/documents").json()
    documents = [scan_id, photo_id] + [d["id"] for d in listed if d["id"] not in (scan_id, photo_id)][:WHOLE_FILE_DOCUMENTS - 2]
    while len(documents) < WHOLE_FILE_DOCUMENTS:
        documents.append(upload_file(server, bearer, "payslips", "payslip.pdf", payslip, "application/pdf"))
    whole_cold = []
    for _ in range(3):
        whole = new_share(server, bearer, documents)
        elapsed, response = timed_get(f"{server.base}/s/{whole}/file.pdf", "GET /s/…/file.pdf (cold)")
        whole_cold.append(elapsed)
    elapsed_cached, _ = timed_get(f"{server.base}/s/{whole}/file.pdf", "GET /s/…/file.pdf (cached)")
    pages = response.content.count(b"/Type /Page\n") or response.content.count(b"/Type /Page")
    table.add(f"whole file of {WHOLE_FILE_DOCUMENTS} documents as one watermarked PDF, cold (median of 3) / cached",
              f"{fmt_s(statistics.median(whole_cold))} / {fmt_s(elapsed_cached)}", f"{fmt_s(ceiling)} (`pdftoppm`, 3 pages)",
              f"{statistics.median(whole_cold) / ceiling:.2f} (cold)", "(info)")

    # Throughput of what recipients ask, cached, against /health.
    health = run_wrk(server.base + "/health", bearer, TARGET_CONNECTIONS, duration)
    for path, label in ((f"/s/{token}", "the recipient's page"), (f"/s/{token}/documents/{scan_id}", "a cached watermarked scan")):
        row = run_wrk(server.base + path, bearer, TARGET_CONNECTIONS, duration)
        verdict = verdict_of(row, f"GET {label}")
        if verdict and verdict.startswith("**FAIL"):
            failures.append(f"GET {label}: {verdict.strip('*')}")
        ratio = row["rps"] / health["rps"] if health["rps"] else 0.0
        table.add(f"{label}, {TARGET_CONNECTIONS} conn: throughput (p99)", f"{fmt_rps(row['rps'])} ({fmt_ms(row['p99'])})",
                  f"{fmt_rps(health['rps'])} (`/health`)", f"{ratio:.2f}",
                  f"≥ {SHARE_PAGE_RATIO_TARGET:.2f}" if path == f"/s/{token}" else "(info)",
                  verdict or (yes(ratio >= SHARE_PAGE_RATIO_TARGET) if path == f"/s/{token}" else "—"))


# MARK: Report


# The rights benchmark (issue 13): targets 100x faster than a mature privacy platform measured
# on the same data shape (0.65 s per access request, 1.30 s per erasure).
RIGHTS_TENANTS = 10_000
RIGHTS_SAMPLES = 200
ACCESS_TARGET_MS, ERASURE_TARGET_MS, EXPORT_TARGET_S = 6.5, 13.0, 1.0


def measure_rights(binary, run_dir, tenants, table, failures, keys_on_postgres=True):
    """`dossier bench rights` on a PostgreSQL cluster of its own (scripts/with-postgres): seeds
    the tenants through the models, then times the access view, erasure and a 50 MB export in
    the server's own code, beside plain SQL reads and deletes of the same rows and the bare
    decryption of the same blobs (the ceilings). `keys_on_postgres`: the subject keys in a
    database of their own on the same cluster (`DOSSIER_KEYS_URL`, as a PostgreSQL deployment
    keeps them), else in the default SQLite file of the data directory, each write flushed to
    disk while the cluster runs with fsync off."""
    data_dir = os.path.join(run_dir, "rights-pg-keys" if keys_on_postgres else "rights")
    # Nothing of the caller's own instance: its keys, blobs, mail, master key or register.
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DOSSIER_", "AWS_")) and name not in ("SMTP_URL", "DATABASE_URL")}
    env.update(DOSSIER_DATA_DIR=data_dir, LOG_LEVEL="warning", PGPORT=str(56000 + os.getpid() % 1000))
    command = [binary, "bench", "rights", "--tenants", str(tenants), "--samples", str(RIGHTS_SAMPLES)]
    if keys_on_postgres:
        # A second database on the cluster, named by DOSSIER_KEYS_URL (never the data's own).
        command = ["bash", "-c", 'psql -h 127.0.0.1 -p "$PGPORT" -U postgres -q -c "CREATE DATABASE dossier_keys OWNER dossier" '
                   '&& DOSSIER_KEYS_URL="${DATABASE_URL/\\/dossier\\?/\\/dossier_keys?}" exec "$@"', "bench-rights"] + command
    done = subprocess.run([os.path.join(REPO, "scripts", "with-postgres")] + command, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        failures.append(f"dossier bench rights: exit {done.returncode}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
        return
    result = json.loads(done.stdout[done.stdout.index("{"):])
    if min(result[name]["samples"] for name in ("access", "accessCeiling", "erasure", "erasureCeiling", "exportSeconds", "exportCeiling")) == 0:
        failures.append("dossier bench rights: too few tenants to time anything (at least 3 a sample)")
        return
    ms = lambda seconds: f"{seconds * 1000:,.2f} ms"
    shape = f"{result['tenants']:,} tenants, PostgreSQL with fsync off"
    if not keys_on_postgres:
        # The default key store beside PostgreSQL data: the erasure alone, for comparison.
        erasure, ceiling = result["erasure"], result["erasureCeiling"]
        table.add(f"erasure of one person, keys in the default SQLite key store, each write flushed to disk ({shape}): median / p99 of {erasure['samples']}",
                  f"{ms(erasure['median'])} / {ms(erasure['p99'])}", f"{ms(ceiling['median'])} (plain SQL deletes of the same rows, one transaction)",
                  f"{erasure['median'] / ceiling['median']:.2f}", ok="(info)")
        return
    shape += ", keys in a PostgreSQL database of their own"
    access, ceiling = result["access"], result["accessCeiling"]
    table.add(f"access view of one person ({shape}): median / p99 of {access['samples']}", f"{ms(access['median'])} / {ms(access['p99'])}",
              f"{ms(ceiling['median'])} (plain SQL reads of the same rows)", f"{access['median'] / ceiling['median']:.2f}",
              f"< {ACCESS_TARGET_MS} ms", yes(access["median"] * 1000 < ACCESS_TARGET_MS))
    erasure, ceiling = result["erasure"], result["erasureCeiling"]
    table.add(f"erasure of one person, keys destroyed ({shape}): median / p99 of {erasure['samples']}", f"{ms(erasure['median'])} / {ms(erasure['p99'])}",
              f"{ms(ceiling['median'])} (plain SQL deletes of the same rows, one transaction)", f"{erasure['median'] / ceiling['median']:.2f}",
              f"< {ERASURE_TARGET_MS:.0f} ms", yes(erasure["median"] * 1000 < ERASURE_TARGET_MS))
    export, ceiling = result["exportSeconds"], result["exportCeiling"]
    table.add(f"export of a file of 20 documents ({result['exportBytes'] / 1e6:,.0f} MB ZIP), median of {export['samples']}", fmt_s(export["median"]),
              f"{fmt_s(ceiling['median'])} (reading and decrypting the 20 blobs alone)", f"{export['median'] / ceiling['median']:.2f}",
              f"< {EXPORT_TARGET_S:.0f} s", yes(export["median"] < EXPORT_TARGET_S))
    table.add(f"seeding {result['tenants']:,} tenants through the models (set-up)", fmt_s(result["seedSeconds"]), ok="(info)")


# The retention benchmark (issue 14): a sweep costs in proportion to what is due, not to the
# size of the database.
RETENTION_SUBJECTS = (100_000, 1_000_000)
# With nothing due, a sweep over 10x the subjects may take at most this much longer; with 1 %
# due, each row acted on may cost at most this much more than at the smaller size.
RETENTION_GROWTH_TARGET = 2.0


def measure_retention(binary, run_dir, sizes, table, failures):
    """`dossier bench retention` on a PostgreSQL cluster of its own for each size: 1 % of the
    subjects made 400 days ago through the models, the rest now; a sweep the day after the due
    were made (0 % due) and one now (1 % due), beside plain SQL doing the same deletions and
    reminders in a transaction rolled back (the ceiling)."""
    results = []
    for subjects in sizes:
        data_dir = os.path.join(run_dir, f"retention-{subjects}")
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("DOSSIER_", "AWS_")) and name not in ("SMTP_URL", "DATABASE_URL")}
        env.update(DOSSIER_DATA_DIR=data_dir, LOG_LEVEL="warning", PGPORT=str(57000 + os.getpid() % 1000))
        log(f"retention: {subjects:,} subjects")
        done = subprocess.run([os.path.join(REPO, "scripts", "with-postgres"), binary, "bench", "retention", "--subjects", str(subjects)],
                              env=env, capture_output=True, text=True, timeout=7200)
        shutil.rmtree(data_dir, ignore_errors=True)
        if done.returncode != 0:
            failures.append(f"dossier bench retention --subjects {subjects}: exit {done.returncode}: "
                            f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
            break
        results.append(json.loads(done.stdout[done.stdout.index("{"):]))
    if not results:
        return
    smallest = results[0]
    ms = lambda seconds: f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"
    for result in results:
        subjects = f"{result['subjects']:,} subjects"
        idle, due = result["idle"], result.get("due")
        larger = result is not smallest
        growth = idle["sweep"]["median"] / smallest["idle"]["sweep"]["median"]
        table.add(f"retention sweep, {subjects}, 0 % due (median of {idle['sweep']['samples']}; plan {ms(idle['plan']['median'])})",
                  ms(idle["sweep"]["median"]), f"{ms(idle['ceiling']['median'])} (plain SQL, same statements, rolled back)",
                  f"{idle['sweep']['median'] / idle['ceiling']['median']:.1f}",
                  f"< {RETENTION_GROWTH_TARGET:.0f}× the {smallest['subjects']:,} sweep ({growth:.2f}×)" if larger else "(info)",
                  yes(growth < RETENTION_GROWTH_TARGET) if larger else "—")
        table.add(f"seeding {subjects} (set-up: 1 % and 100 through the models, the rest copied in SQL)", fmt_s(result["seedSeconds"]), ok="(info)")
        if not due or not smallest.get("due"):
            continue
        per_row = due["sweep"]["median"] / due["acted"]
        per_row_smallest = smallest["due"]["sweep"]["median"] / smallest["due"]["acted"]
        table.add(f"retention sweep, {subjects}, 1 % due: {due['acted']:,} rows of {result['dueSubjects']:,} people "
                  f"(reminders, documents with their blobs, links, connections; plan {ms(due['plan']['median'])})",
                  f"{ms(due['sweep']['median'])} ({per_row * 1e6:,.0f} µs a row)",
                  f"{ms(due['ceiling']['median'])} (plain SQL deletes and updates of the same rows, rolled back)",
                  f"{due['sweep']['median'] / due['ceiling']['median']:.1f}",
                  f"< {RETENTION_GROWTH_TARGET:.0f}× the {smallest['subjects']:,} sweep a row ({per_row / per_row_smallest:.2f}×)" if larger else "(info)",
                  yes(per_row / per_row_smallest < RETENTION_GROWTH_TARGET) if larger else "—")


def machine_line():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    except OSError:
        cores = str(os.cpu_count())
    return f"Machine: nproc {cores}, {cpu}, kernel {platform.release()}, {now}."


def fmt_rps(value):
    return f"{value:,.0f} req/s"


def fmt_ms(value):
    return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"


def fmt_s(value):
    return f"{value * 1000:,.1f} ms" if value < 10 else f"{value:,.2f} s"


def yes(ok):
    return "yes" if ok else "**NO**"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, measurement, value, ceiling="—", ratio="—", target="—", ok="—"):
        self.rows.append((measurement, value, ceiling, ratio, target, ok))

    def markdown(self):
        lines = ["| measurement | value | ceiling (same run) | ratio | target | ok |",
                 "|---|---|---|---|---|---|"]
        for row in self.rows:
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        return "\n".join(lines)


def read_rows(table, results):
    for connections in CONNECTIONS:
        health = results[("/health", connections)]
        table.add(f"`GET /health`, {connections} conn: throughput (the ceiling)", fmt_rps(health["rps"]),
                  ok=health["verdict"] or "—")
        table.add(f"`GET /health`, {connections} conn: latency p50 / p99",
                  f"{fmt_ms(health['p50'])} / {fmt_ms(health['p99'])}", ok=health["verdict"] or "—")
        for path in ("/api/v1/me/documents", "/api/v1/me/profile"):
            row = results[(path, connections)]
            binding = connections == TARGET_CONNECTIONS
            ratio = row["rps"] / health["rps"] if health["rps"] else 0.0
            if row["verdict"]:
                rps_ok = p99_ok = row["verdict"]
            elif binding:
                rps_ok, p99_ok = yes(ratio >= READ_RATIO_TARGET), yes(row["p99"] < P99_TARGET_MS)
            else:
                rps_ok = p99_ok = "— (info)"
            table.add(f"`GET {path}`, {connections} conn: throughput", fmt_rps(row["rps"]),
                      f"{fmt_rps(health['rps'])} (`/health`)", f"{ratio:.2f}",
                      f"≥ {READ_RATIO_TARGET:.2f}" if binding else f"(≥ {READ_RATIO_TARGET:.2f} at {TARGET_CONNECTIONS} conn)",
                      rps_ok)
            table.add(f"`GET {path}`, {connections} conn: latency p50 / p99",
                      f"{fmt_ms(row['p50'])} / {fmt_ms(row['p99'])}",
                      f"{fmt_ms(health['p50'])} / {fmt_ms(health['p99'])} (`/health`)",
                      f"{row['p99'] / health['p99']:.2f} (p99)" if health["p99"] else "—",
                      f"p99 < {P99_TARGET_MS:.0f} ms" if binding else f"(p99 < {P99_TARGET_MS:.0f} ms at {TARGET_CONNECTIONS} conn)",
                      p99_ok)


def verdict_of(result, label):
    """A functional failure of one wrk run, said loudly; None when every answer was a 2xx."""
    problems = []
    if result["non2xx"]:
        problems.append(f"{result['non2xx']} non-2xx")
    errors = {k: v for k, v in result["socket_errors"].items() if v and k != "timeout"}
    if errors:
        problems.append("socket errors " + ", ".join(f"{k} {v}" for k, v in errors.items()))
    if result["requests"] == 0:
        problems.append("no request completed")
    timeouts = result["socket_errors"].get("timeout", 0)
    if problems:
        message = f"FAIL: {'; '.join(problems)}" + (f"; {timeouts} timeouts" if timeouts else "")
        log(f"{label}: {message}")
        return f"**{message}**"
    if timeouts:
        # Answers slower than wrk's 2 s timeout: a miss, not a malfunction.
        log(f"{label}: {timeouts} requests timed out (over 2 s)")
        return f"**NO: {timeouts} timeouts**"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "dossier"),
                        help="the dossier executable (its *.resources bundles beside it)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3-second wrk runs")
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument("--port", type=int, help="port to serve on (default: a free one)")
    parser.add_argument("--no-build", action="store_true", help=argparse.SUPPRESS)  # scripts/bench's, harmless here
    parser.add_argument("--rights-tenants", type=int, default=RIGHTS_TENANTS,
                        help=f"tenants seeded for the rights rows, on PostgreSQL (default {RIGHTS_TENANTS:,}; 0 leaves the rows out)")
    parser.add_argument("--retention-subjects", default=",".join(str(n) for n in RETENTION_SUBJECTS),
                        help="comma-separated sizes for the retention rows, on PostgreSQL, each a multiple of 10,000 "
                             "(default 100000,1000000; 0 leaves the rows out)")
    parser.add_argument("--only", choices=("rights", "retention"),
                        help="only these rows (no server started for the others)")
    args = parser.parse_args()
    try:
        retention_sizes = [int(n) for n in args.retention_subjects.split(",") if int(n) > 0]
    except ValueError:
        parser.error("--retention-subjects: comma-separated numbers")
    if any(n % 10_000 for n in retention_sizes):
        parser.error("--retention-subjects: each a multiple of 10,000")
    duration = 3 if args.quick else args.duration
    if duration < 1:
        parser.error("--duration must be at least 1 second")
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        parser.error(f"{binary} is not an executable: build it (swift build -c release --product dossier)")
    for tool in ("wrk", "dd", "openssl", "pdftoppm"):
        if not shutil.which(tool):
            parser.error(f"{tool} is missing (scripts/bench installs wrk)")

    if args.port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    else:
        port = args.port

    # A private directory on the repository's filesystem, ignored by git while it exists.
    parent = os.path.join(REPO, ".bench-tmp")
    os.makedirs(parent, mode=0o700, exist_ok=True)
    os.chmod(parent, 0o700)
    ignore = os.path.join(parent, ".gitignore")
    if not os.path.exists(ignore):
        with open(ignore, "w") as f:
            f.write("*\n")
    run_dir = tempfile.mkdtemp(prefix="run-", dir=parent)  # mode 0700
    os.chmod(run_dir, 0o700)

    # SIGTERM and SIGHUP unwind like Ctrl-C, so the server is stopped and the directory removed.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    server = Server(binary, port, run_dir)
    table = Table()
    failures = []
    status = 0
    try:
        if args.only is None:
            server.start()
            log("signing a tenant up, confirming, signing in")
            bearer = make_tenant(server)
            log(f"uploading {SEED_DOCUMENTS} payslips")
            seed_documents(server, bearer)
            server.check_alive("the set-up")

            results = {}
            for path in ("/health", "/api/v1/me/documents", "/api/v1/me/profile"):
                # One plain request first: a redirect (which wrk counts as success) or an error fails here.
                expect(requests.get(server.base + path, headers={"Authorization": f"Bearer {bearer}"},
                                    allow_redirects=False, timeout=30), 200, f"GET {path}")
            for connections in CONNECTIONS:
                for path in ("/health", "/api/v1/me/documents", "/api/v1/me/profile"):
                    label = f"GET {path}, {connections} connections"
                    log(f"wrk {duration} s: {label}")
                    result = run_wrk(server.base + path, bearer, connections, duration)
                    server.check_alive(label)
                    result["verdict"] = verdict_of(result, label)
                    if result["verdict"] and result["verdict"].startswith("**FAIL"):
                        failures.append(f"{label}: {result['verdict'].strip('*')}")
                    results[(path, connections)] = result
            read_rows(table, results)

            log(f"10 MiB PDF: {UPLOAD_RUNS} uploads, {DD_RUNS} dd runs, openssl speed")
            pdf = make_pdf(UPLOAD_BYTES)
            pdf_path = os.path.join(run_dir, "bench-10MiB.pdf")
            with open(pdf_path, "wb") as f:
                f.write(pdf)
            uploads = measure_uploads(server, bearer, pdf)
            server.check_alive("the uploads")
            dd = measure_dd(pdf_path, server.data_dir)
            aes = openssl_aes_gcm_mb_s()
            upload_s, dd_s = statistics.median(uploads), statistics.median(dd)
            ratio = upload_s / dd_s
            table.add(f"10 MiB PDF upload, end to end (median of {UPLOAD_RUNS})", fmt_s(upload_s),
                      f"{fmt_s(dd_s)} (`dd bs=1M conv=fsync` into the data dir, median of {DD_RUNS})",
                      f"{ratio:.2f}", f"< {UPLOAD_RATIO_TARGET:.0f}×", yes(ratio < UPLOAD_RATIO_TARGET))
            upload_mb_s = UPLOAD_BYTES / 1e6 / upload_s
            table.add("10 MiB PDF upload throughput", f"{upload_mb_s:,.1f} MB/s",
                      f"{aes:,.0f} MB/s (`openssl speed -evp aes-256-gcm`, 16 KiB blocks, one core)",
                      f"{upload_mb_s / aes:.2g}", "(info)")

            log("sharing: watermarked deliveries, cold and cached, against pdftoppm; the whole file; the recipient's page")
            measure_sharing(server, binary, bearer, run_dir, duration, table, failures)
            server.check_alive("the sharing measurements")

        if args.rights_tenants and args.only in (None, "rights"):
            log(f"rights: {args.rights_tenants:,} tenants on PostgreSQL; access view, erasure, 50 MB export")
            measure_rights(binary, run_dir, args.rights_tenants, table, failures)
            measure_rights(binary, run_dir, args.rights_tenants, table, failures, keys_on_postgres=False)

        if retention_sizes and args.only in (None, "retention"):
            log(f"retention: {', '.join(f'{n:,}' for n in retention_sizes)} subjects on PostgreSQL; sweeps with 0 % and 1 % due")
            measure_retention(binary, run_dir, retention_sizes, table, failures)

        if args.only is None:
            rss_mb = server.peak_rss_kb() * 1024 / 1e6
            table.add("server peak RSS (VmHWM, whole run)", f"{rss_mb:,.1f} MB", target=f"< {RSS_TARGET_MB:.0f} MB",
                      ok=yes(rss_mb < RSS_TARGET_MB))
            server.check_alive("the run")
    except Failure as failure:
        log(f"FAILED: {failure}")
        failures.append(str(failure).splitlines()[0])
        status = 1
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        server.stop()
        crashed = server.process is not None and not server.stopped_by_us and status != 130
        if crashed and status == 0:
            failures.append(f"the server exited on its own (status {server.process.returncode})")
            log(server.log_tail())
        shutil.rmtree(run_dir, ignore_errors=True)
        try:
            if os.listdir(parent) == [".gitignore"]:
                os.unlink(ignore)
                os.rmdir(parent)
        except OSError:
            pass

    if status == 130:
        return status
    report = [table.markdown(), ""] if table.rows else []
    if failures:
        report.append("**Functional failures:** " + "; ".join(failures))
        report.append("")
        status = 1
    report.append(f"Binary: `{binary}`; wrk -t2, {duration} s a run. {machine_line()}")
    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
