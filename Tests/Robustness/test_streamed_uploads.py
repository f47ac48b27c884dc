"""Uploads are streamed: a 100 MB body of five 20 MB files goes through a real `dossier serve`
with its memory growing by less than 30 MB (read from /proc, not timed); an upload cut off
half-way leaves nothing behind; a second upload of the same account at once is refused.

Each test here has a server of its own (fresh data directory), so that its peak memory is its
own and not that of the sweeps in `test_extreme_values.py`.
"""
import hashlib
import http.client
import os
import pathlib
import secrets
import shutil
import socket
import tempfile
import time

import pytest

from conftest import Api, Server, UPLOADS, _binary, _sign_up, free_port

MB = 1000 * 1000
#: What the issue allows the server's resident memory to grow by for a 100 MB upload.
GROWTH_LIMIT = 30 * 1024 * 1024


def pdf_of_size(total, seed):
    """A valid one-page PDF of exactly `total` bytes (a content stream of comment lines)."""
    line = b"% " + hashlib.sha256(seed.encode()).hexdigest()[:62].encode() + b"\n"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"]

    def assemble(length):
        data = (line * (length // len(line) + 1))[:length]
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        offsets.append(len(out))
        out += b"4 0 obj\n<< /Length %d >>\nstream\n" % length + data + b"\nendstream\nendobj\n"
        xref = len(out)
        out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)

    length = total - len(assemble(0))
    while True:
        out = assemble(length)
        if len(out) == total:
            return out
        length -= len(out) - total


def reset_peak(server):
    """Starts a new measure of the peak: VmHWM back to the current RSS (writing 5 to clear_refs)."""
    pathlib.Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")


def peak_rss(server):
    """The server process's peak resident memory (VmHWM), in bytes."""
    for line in pathlib.Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def multipart(type_id, files):
    """The pieces of a multipart body (a list, so the client never joins 100 MB) and its boundary."""
    boundary = "stream" + secrets.token_hex(8)
    pieces = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n{type_id}\r\n".encode()]
    for name, data in files:
        pieces.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                      f"Content-Type: application/pdf\r\n\r\n".encode())
        pieces.append(data)
        pieces.append(b"\r\n")
    pieces.append(f"--{boundary}--\r\n".encode())
    return pieces, boundary


def start_upload(server, token, pieces, boundary, timeout=120):
    """A connection with an upload's request line and headers sent, its body still to send."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    connection.putrequest("POST", "/api/v1/me/documents", skip_accept_encoding=True)
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(sum(len(p) for p in pieces)))
    connection.endheaders()
    return connection


def send_pieces(server, token, pieces, boundary, stop_after=None):
    """POSTs the body piece by piece in 64 kB writes. With `stop_after` (bytes), closes the
    connection once that much is sent and returns None; else returns (status, body, headers)."""
    connection = start_upload(server, token, pieces, boundary)
    sent = 0
    for piece in pieces:
        view = memoryview(piece)
        for start in range(0, len(view), 65536):
            piece_of = view[start:start + 65536]
            if stop_after is not None:
                piece_of = piece_of[:max(0, stop_after - sent)]
            connection.sock.sendall(piece_of)
            sent += len(piece_of)
            if stop_after is not None and sent >= stop_after:
                connection.sock.shutdown(socket.SHUT_RDWR)
                connection.close()
                return None
    response = connection.getresponse()
    result = (response.status, response.read(), dict(response.getheaders()))
    connection.close()
    return result


@pytest.fixture()
def fresh():
    """A server of its own with a verified, signed-in tenant: (server, api, document type)."""
    root = tempfile.mkdtemp(prefix="dossier-streamed-")
    server = Server(_binary(), os.path.join(root, "data"), free_port())
    try:
        api = Api(server)
        tag = secrets.token_hex(4)
        address, password = f"stream-{tag}@example.org", f"Copper lantern {tag} evening"
        _sign_up(api, address, password, "Sacha", "Flux")
        token = server.wait_for_link(address, "/verify-email")
        assert api.send("POST", "/api/v1/accounts/verify", auth=False, json_body={"token": token}).status == 200
        session = api.send("POST", "/api/v1/sessions", auth=False, json_body={"email": address, "password": password})
        assert session.status == 201, session.describe()
        api.token = session.json()["token"]
        catalogue = api.send("GET", "/api/v1/catalogue/documents", auth=False).json()
        type_id = next(e["id"] for e in catalogue if not e["forbidden"] and "tenant" in e["for"])
        yield server, api, type_id
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def stored_files(server):
    """Files in the blob store and in the scratch directory."""
    blobs = [p for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]
    scratch = [p for p in (server.data_dir / "scratch").iterdir()] if (server.data_dir / "scratch").exists() else []
    return blobs, scratch


def documents(api):
    return api.get_json("/api/v1/me/documents")


def test_a_100_mb_upload_of_five_20_mb_files_grows_memory_by_less_than_30_mb(fresh):
    server, api, type_id = fresh
    # Warmed up: one small upload and a read, so that what is measured is the large upload.
    pieces, boundary = multipart(type_id, [("payslip.pdf", (UPLOADS / "payslip.pdf").read_bytes())])
    status, body, _ = send_pieces(server, api.token, pieces, boundary)
    assert status == 201, body[:300]
    documents(api)
    reset_peak(server)
    before = peak_rss(server)

    files = [(f"part-{n}.pdf", pdf_of_size(20 * MB, f"file {n}")) for n in range(5)]
    pieces, boundary = multipart(type_id, files)
    assert sum(len(p) for p in pieces) > 100 * MB
    status, body, _ = send_pieces(server, api.token, pieces, boundary)
    assert status == 201, body[:300]
    after_upload = peak_rss(server)

    # Read back whole and the same, a chunk at a time: measured on its own.
    created = [d for d in documents(api) if len(d["files"]) == 5]
    assert len(created) == 1
    document = created[0]["id"]
    reset_peak(server)
    before_reads = peak_rss(server)
    for position in (1, 5):
        answer = api.send("GET", f"/api/v1/me/documents/{document}/content?file={position}")
        assert answer.status == 200, answer.describe()
        assert hashlib.sha256(answer.content).hexdigest() == hashlib.sha256(files[position - 1][1]).hexdigest()
    after_reads = peak_rss(server)

    print(f"\npeak RSS: {before / 2**20:.1f} MiB before, {after_upload / 2**20:.1f} MiB after the 100 MB upload; "
          f"{before_reads / 2**20:.1f} MiB before reading two 20 MB files back, {after_reads / 2**20:.1f} MiB after")
    assert after_upload - before < GROWTH_LIMIT, f"the upload grew the peak RSS by {(after_upload - before) / 2**20:.1f} MiB"
    assert after_reads - before_reads < GROWTH_LIMIT, f"reading grew the peak RSS by {(after_reads - before_reads) / 2**20:.1f} MiB"
    blobs, scratch = stored_files(server)
    assert len(blobs) == 6 and scratch == [], (blobs, scratch)
    for blob in blobs:
        assert blob.stat().st_mode & 0o077 == 0
        # Sealed: none of the documents' text is there.
        with open(blob, "rb") as handle:
            assert b"%PDF" not in handle.read(1 << 20)


def test_an_upload_cut_off_half_way_leaves_nothing_behind(fresh):
    server, api, type_id = fresh
    files = [(f"part-{n}.pdf", pdf_of_size(15 * MB, f"cut {n}")) for n in range(3)]
    pieces, boundary = multipart(type_id, files)
    for stop in (10 * MB, 25 * MB, sum(len(p) for p in pieces) - 10):
        assert send_pieces(server, api.token, pieces, boundary, stop_after=stop) is None
        # The server notices the closed connection and deletes what it received.
        deadline = time.time() + 20
        while time.time() < deadline:
            blobs, scratch = stored_files(server)
            if not blobs and not scratch:
                break
            time.sleep(0.2)
        assert (blobs, scratch) == ([], []), f"left after a cut at {stop} bytes: {blobs + scratch}"
        assert documents(api) == []
    # And the account can upload again at once (its upload slot was given back).
    pieces, boundary = multipart(type_id, [("payslip.pdf", (UPLOADS / "payslip.pdf").read_bytes())])
    status, body, _ = send_pieces(server, api.token, pieces, boundary)
    assert status == 201, body[:300]


def test_a_second_upload_at_once_is_refused_with_429_and_retry_after(fresh):
    server, api, type_id = fresh
    big = [("slow.pdf", pdf_of_size(10 * MB, "slow"))]
    pieces, boundary = multipart(type_id, big)
    slow = start_upload(server, api.token, pieces, boundary, timeout=60)
    body = b"".join(pieces)
    slow.sock.sendall(body[:MB])
    try:
        # The first upload is under way (its first megabyte is in): the second is refused at once.
        time.sleep(0.5)
        small, small_boundary = multipart(type_id, [("payslip.pdf", (UPLOADS / "payslip.pdf").read_bytes())])
        status, answer, headers = send_pieces(server, api.token, small, small_boundary)
        assert status == 429, answer[:300]
        assert headers.get("Retry-After") == "5"
        # The first one, finished, is stored.
        slow.sock.sendall(body[MB:])
        response = slow.getresponse()
        assert response.status == 201, response.read()[:300]
    finally:
        slow.close()


def test_oversized_headers_too_many_files_and_cut_parts_are_refused_and_leave_nothing(fresh):
    server, api, type_id = fresh
    pdf = (UPLOADS / "payslip.pdf").read_bytes()
    boundary = "hostile" + secrets.token_hex(8)
    start = f"--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n{type_id}\r\n".encode()
    file_head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                 f"Content-Type: application/pdf\r\n").encode()
    end = f"--{boundary}--\r\n".encode()
    cases = {
        # A header of 2 MB, and a part with thousands of headers.
        "long header": [start, file_head, b"X-Long: " + b"a" * (2 * MB) + b"\r\n\r\n", pdf, b"\r\n", end],
        "many headers": [start, file_head, b"".join(b"X-%d: v\r\n" % n for n in range(5000)), b"\r\n", pdf, b"\r\n", end],
        # Six files where five at most make a document.
        "six files": [start] + [file_head + b"\r\n" + pdf + b"\r\n" for _ in range(6)] + [end],
        # The closing delimiter is there, but the last part never ended its headers.
        "part left open": [start, file_head, end],
    }
    for name, pieces in cases.items():
        status, body, _ = send_pieces(server, api.token, pieces, boundary)
        assert status in (400, 413), f"{name}: {status} {body[:300]}"
        assert b"error" in body, f"{name}: {body[:300]}"
        blobs, scratch = stored_files(server)
        assert (blobs, scratch) == ([], []), f"{name}: left {blobs + scratch}"
    assert documents(api) == []
    assert server.healthy()
