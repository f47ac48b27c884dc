"""Soak: a few minutes of mixed load (sign-ins, reads, profile changes, uploads, deletions) from
four tenants at once against a fresh server, bounded in time. No answer may be an error, and
the server's memory must stay flat: its resident size after a warm-up and at the end are
printed, and may differ by little.

SOAK_SECONDS sets the length (120 by default)."""
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

import requests

from conftest import UPLOADS, Server, _binary, free_port, pdf_upload, summary, verified_account

SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))
WARM_UP = min(15.0, SECONDS / 4)
TENANTS = 4
# Growth allowed between the end of the warm-up and the end: allocator and caches settle, a
# leak of a few kilobytes a request does not (tens of thousands of requests are made).
ALLOWED_GROWTH_KB = 24 * 1024


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_mixed_load_for_minutes_keeps_memory_flat_and_answers_without_error():
    root = tempfile.mkdtemp(prefix="dossier-soak-")
    server = None
    pdf = (UPLOADS / "payslip.pdf").read_bytes()
    errors = []
    counts = {}
    lock = threading.Lock()
    try:
        server = Server(_binary(), os.path.join(root, "data"), free_port())
        tenants = []
        for index in range(TENANTS):
            email, password = f"load-{index}@example.org", f"Harbour lantern {index} quietly tonight"
            verified_account(server, email, password, "Sam", "Soak")
            tenants.append((email, password))
        catalogue = requests.get(server.url + "/api/v1/catalogue/documents", timeout=30).json()
        type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
        stop_at = time.monotonic() + SECONDS

        def note(what, response=None, problem=None):
            with lock:
                counts[what] = counts.get(what, 0) + 1
                if problem is not None:
                    errors.append(f"{what}: {problem}")
                elif response is not None and response.status_code >= 400:
                    errors.append(f"{what}: {response.status_code} {response.text[:200]}")

        def tenant_load(email, password, seed):
            rng = random.Random(seed)
            http = requests.Session()
            token = None
            documents = []
            while time.monotonic() < stop_at:
                try:
                    if token is None or rng.random() < 0.02:
                        reply = http.post(server.url + "/api/v1/sessions", json={"email": email, "password": password}, timeout=30)
                        note("sign-in", reply)
                        if reply.status_code == 201:
                            token = reply.json()["token"]
                        continue
                    auth = {"Authorization": f"Bearer {token}"}
                    roll = rng.random()
                    if roll < 0.45:
                        note("read documents", http.get(server.url + "/api/v1/me/documents", headers=auth, timeout=30))
                    elif roll < 0.7:
                        note("read profile", http.get(server.url + "/api/v1/me/profile", headers=auth, timeout=30))
                    elif roll < 0.8:
                        note("change profile", http.patch(server.url + "/api/v1/me/profile", headers=auth,
                                                          json={"monthlyIncome": rng.randrange(1000, 9000)}, timeout=30))
                    elif roll < 0.9 and len(documents) < 5:
                        body, content_type = pdf_upload(type_id, pdf)
                        reply = http.post(server.url + "/api/v1/me/documents", data=body,
                                          headers={**auth, "Content-Type": content_type}, timeout=60)
                        note("upload", reply)
                        if reply.status_code == 201:
                            documents.append(reply.json()["id"])
                    elif documents:
                        document = documents.pop(rng.randrange(len(documents)))
                        if rng.random() < 0.5:
                            note("read file", http.get(server.url + f"/api/v1/me/documents/{document}/content", headers=auth, timeout=30))
                            documents.append(document)
                        else:
                            note("delete", http.delete(server.url + f"/api/v1/me/documents/{document}", headers=auth, timeout=30))
                except requests.RequestException as error:
                    note("connection", problem=repr(error))

        workers = [threading.Thread(target=tenant_load, args=(email, password, index)) for index, (email, password) in enumerate(tenants)]
        for worker in workers:
            worker.start()
        time.sleep(WARM_UP)
        start_kb = rss_kb(server.process.pid)
        for worker in workers:
            worker.join(timeout=SECONDS + 120)
        end_kb = rss_kb(server.process.pid)
        assert server.healthy(), "the server stopped answering"
        total = sum(counts.values())
        summary(f"soak: {SECONDS:.0f} s, {total} requests ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
                f"RSS {start_kb / 1024:.1f} MB after {WARM_UP:.0f} s, {end_kb / 1024:.1f} MB at the end")
        assert errors == [], f"{len(errors)} errors, the first: {errors[:5]}\n--- server errors ---\n" + "\n".join(
            line for line in server.log_text().splitlines() if " error " in line or "rror:" in line)[-4000:]
        assert end_kb - start_kb < ALLOWED_GROWTH_KB, f"memory grew from {start_kb} kB to {end_kb} kB"
        # And what the load left behind agrees: database, blobs, keys, audit chain.
        verified = subprocess.run([_binary(), "verify"], env=dict(os.environ, DOSSIER_DATA_DIR=os.path.join(root, "data"), DATABASE_URL=""),
                                  capture_output=True, text=True, timeout=300)
        assert verified.returncode == 0, f"dossier verify after the soak:\n{verified.stdout}\n{verified.stderr}"
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
