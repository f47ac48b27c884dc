"""A real `dossier serve` on loopback for the extreme-value sweeps, and an HTTP client that
turns every answer into a readable failure: the request (method, path, truncated body) and
the response (status, truncated body).

One server serves the whole run. If it dies, the request that killed it is recorded, the test
fails with it, and the server is started again on the same data directory (so the accounts,
tokens and documents set up below stay valid) for the shrinking and for the next tests; the
last test of `test_extreme_values.py` fails if it ever died.
"""
import email
import email.policy
import http.client
import email.utils
import json
import os
import pathlib
import re
import secrets
import select
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps caches in ./.hypothesis: somewhere else, so that nothing lands in the repository.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "dossier-robustness-hypothesis"))

ROOT = pathlib.Path(__file__).resolve().parents[2]
UPLOADS = ROOT / "Tests" / "Fixtures" / "uploads"

#: Restarts allowed within one test (shrinking a crash restarts the server each time).
RESTARTS_PER_TEST = int(os.environ.get("DOSSIER_ROBUSTNESS_RESTARTS", "8"))
#: How long a request may take before it counts as a hang.
REQUEST_TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clip(data, limit=300):
    """A short, printable rendering of a body (bytes or text)."""
    if data is None:
        return "(none)"
    if isinstance(data, (bytes, bytearray)):
        text = bytes(data[: limit * 4]).decode("utf-8", errors="backslashreplace")
        size = f"{len(data)} bytes"
    else:
        text, size = data, f"{len(data)} chars"
    shown = repr(text[:limit])
    return shown + (f" … ({size} in all)" if len(text) > limit or len(data) > limit * 4 else "")


class ServerKeepsCrashing(BaseException):
    """Stops a sweep (Hypothesis does not catch it) once the server has died too often in one test."""


class Server:
    def __init__(self, binary, data_dir, port, env=None):
        self.binary = binary
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        # Not created here: the server creates it private (mode 0700), and refuses one that is not.
        self.data_dir = pathlib.Path(data_dir)
        self.env = dict(os.environ, DOSSIER_DATA_DIR=str(self.data_dir), DOSSIER_BASE_URL=self.url, DATABASE_URL="", **(env or {}))
        self.log_path = self.data_dir.parent / "server.log"
        self.log = open(self.log_path, "a")
        self.crashes = []
        self.restarts_in_test = 0
        self.crashes_in_test = []
        self.process = None
        self.start()

    # Process

    def start(self):
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port)], env=self.env,
                                        stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dossier serve exited with {self.process.returncode}; log:\n{self.log_tail()}")
            if self.healthy(timeout=1):
                return
            time.sleep(0.25)
        raise RuntimeError(f"dossier serve did not answer within 60 s; log:\n{self.log_tail()}")

    def running(self):
        return self.process is not None and self.process.poll() is None

    def healthy(self, timeout=5):
        try:
            return requests.get(self.url + "/health", timeout=timeout).status_code == 200
        except requests.RequestException:
            return False

    def begin_test(self):
        self.restarts_in_test = 0
        self.crashes_in_test = []
        if not self.running():
            self.start()

    def died(self, context):
        """Called when the server stopped answering: records the crash, restarts it, raises."""
        __tracebackhide__ = True
        deadline = time.time() + 5
        while self.running() and time.time() < deadline and not self.healthy(timeout=1):
            time.sleep(0.2)
        if self.running():
            if self.healthy():
                return  # alive after all: the caller retries
            # Hung: no answer while the process runs. Stop it; that is as bad as a crash.
            self.process.kill()
            self.process.wait(timeout=15)
            cause = "stopped answering (hung; killed by the test)"
        else:
            cause = f"exited with status {self.process.returncode}"
        report = f"the server {cause} after:\n{context}\n--- end of the server log ---\n{self.log_tail()}"
        self.crashes.append(report)
        self.restarts_in_test += 1
        self.crashes_in_test.append((len(context), report))
        self.start()
        if self.restarts_in_test > RESTARTS_PER_TEST:
            smallest = min(self.crashes_in_test)[1]
            raise ServerKeepsCrashing(f"the server died {self.restarts_in_test} times in this test; the report with the "
                                      f"shortest request:\n{smallest}")
        raise AssertionError(report)

    def stop(self):
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.log.close()

    # Log and outbox

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines=25):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def outbox(self):
        """Every message written so far: (file name, To address, decoded text)."""
        directory = self.data_dir / "outbox"
        messages = []
        for path in sorted(directory.glob("*.eml")) if directory.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
            parts = message.walk() if message.is_multipart() else [message]
            text = ""
            for part in parts:
                payload = part.get_payload(decode=True)
                if payload:
                    text += payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            messages.append((path.name, email.utils.parseaddr(message.get("To", ""))[1], text))
        return messages

    def wait_for_link(self, to, path, timeout=20):
        """The token of the first `…{path}?token=T…` link in a message to `to` (the outbox is polled every 2 s)."""
        pattern = re.compile(re.escape(path) + r"\?token=([^&\s\"'<>]+)")
        deadline = time.time() + timeout
        while True:
            for _, recipient, text in self.outbox():
                found = pattern.search(text)
                if recipient.lower() == to.lower() and found:
                    return urllib.parse.unquote(found.group(1))
            if time.time() > deadline:
                seen = [(name, recipient) for name, recipient, _ in self.outbox()]
                raise AssertionError(f"no message to {to} with a {path}?token= link within {timeout} s; outbox: {seen}")
            time.sleep(0.25)


class Answer:
    """A response with the request that got it, to print when an expectation fails."""

    def __init__(self, method, path, headers, body, response):
        self.method, self.path, self.headers, self.body, self.response = method, path, headers, body, response
        self.status = response.status_code if response is not None else None

    def json(self):
        return self.response.json()

    @property
    def content(self):
        return self.response.content

    def describe(self):
        shown = {k: v if len(v) <= 80 else f"{v[:80]}… ({len(v)} chars)"
                 for k, v in (self.headers or {}).items() if k.lower() != "authorization"}
        path = self.path if len(self.path) <= 200 else f"{self.path[:200]}… ({len(self.path)} chars)"
        request = f"{self.method} {path}"
        if shown:
            request += f"\n  headers: {shown}"
        request += f"\n  body: {clip(self.body)}"
        if self.response is None:
            return request + "\n  → no answer"
        return (f"{request}\n  → {self.status} {self.response.headers.get('Content-Type', '')}\n"
                f"  response body: {clip(self.response.content)}")


class RawResponse:
    """What `Api.stream` got, shaped like the parts of a `requests.Response` the tests use."""

    def __init__(self, status, headers, content):
        self.status_code, self.headers, self.content = status, headers, content

    def json(self):
        return json.loads(self.content)


class Api:
    """The JSON API of one server, as one signed-in tenant (`token`)."""

    def __init__(self, server):
        self.server = server
        self.http = requests.Session()
        self.token = None
        #: Values that must never reach the server log.
        self.secrets = set()
        #: Addresses the outbox may write to (lower case).
        self.recipients = set()
        self.state = {}

    def send(self, method, path, *, body=None, json_body=None, content_type=None, headers=None, auth=True):
        """Sends a request and returns an Answer; fails the test (with the request) on a hang or a crash.

        `body` is raw bytes (or text, encoded as UTF-8 keeping lone surrogates); `json_body` is
        encoded with `json.dumps`. `auth`: True for the tenant's token, a string for another
        token, False for none.
        """
        all_headers = {}
        if json_body is not None:
            body = json.dumps(json_body)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8", errors="surrogatepass")
        if content_type:
            all_headers["Content-Type"] = content_type
        if auth is True and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        elif isinstance(auth, str):
            all_headers["Authorization"] = f"Bearer {auth}"
        all_headers.update(headers or {})
        __tracebackhide__ = True
        try:
            response = self.http.request(method, self.server.url + path, data=body, headers=all_headers,
                                         timeout=REQUEST_TIMEOUT, allow_redirects=False)
            return Answer(method, path, all_headers, body, response)
        except requests.Timeout:
            timed_out = True
        except requests.ConnectionError:
            timed_out = False
        # (Out of the except clauses, so that a failure does not drag the client's traceback along.)
        self.http = requests.Session()
        if timed_out:
            self._no_answer(method, path, all_headers, body, f"no answer within {REQUEST_TIMEOUT} s")
        self.server.died(Answer(method, path, all_headers, body, None).describe())  # raises if it crashed
        # Alive: the connection was closed on us, e.g. while a large body was still being sent.
        # Again, reading the answer as soon as it comes.
        return self.stream(method, path, headers=all_headers, body=body or b"")

    def _no_answer(self, method, path, headers, body, why):
        __tracebackhide__ = True
        described = Answer(method, path, headers, body, None).describe()
        self.server.died(described + f"\n  ({why})")  # raises if it crashed or hung
        raise AssertionError(f"{why}:\n{described}")

    def stream(self, method, path, *, headers=None, body=b"", allow_no_answer=False):
        """Sends the request as is (the path is not re-encoded) and the body in 64 kB pieces,
        stopping as soon as the server answers (e.g. 413 before a large body is through).

        Returns an Answer. If the connection closes without one: fails the test (with the
        request), or returns None when `allow_no_answer` and the server is still up.
        """
        __tracebackhide__ = True
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8", errors="surrogatepass")
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=REQUEST_TIMEOUT)
        why = "the connection closed without an answer"
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders()
            sent = 0
            try:
                while sent < len(body):
                    readable, _, _ = select.select([connection.sock], [], [], 0)
                    if readable:
                        break
                    connection.sock.sendall(body[sent:sent + 65536])
                    sent += 65536
            except (BrokenPipeError, ConnectionResetError):
                why += f" (closed after {sent} of {len(body)} body bytes)"
            response = connection.getresponse()
            content = response.read()
            return Answer(method, path, headers, body, RawResponse(response.status, response.headers, content))
        except (OSError, http.client.HTTPException) as error:
            why += f" ({type(error).__name__}: {error})"
        finally:
            connection.close()
        described = Answer(method, path, headers, body, None).describe()
        self.server.died(described + f"\n  ({why})")  # raises if it crashed or hung
        if allow_no_answer:
            return None
        raise AssertionError(f"{why}:\n{described}")

    def get_json(self, path):
        __tracebackhide__ = True
        answer = self.send("GET", path)
        assert answer.status == 200, answer.describe()
        return answer.json()

    # Expectations

    @staticmethod
    def no_server_error(answer, allowed=None):
        """Fails unless the answer is below 500 (and in `allowed` when given); returns the status."""
        __tracebackhide__ = True
        assert answer.status < 500, "server error:\n" + answer.describe()
        if allowed is not None:
            assert answer.status in allowed, f"expected one of {sorted(allowed)}:\n" + answer.describe()
        if 400 <= answer.status < 500 and answer.response.headers.get("Content-Type", "").startswith("application/json"):
            try:
                body = answer.json()
            except ValueError:
                raise AssertionError("a JSON error that is not JSON:\n" + answer.describe()) from None
            assert isinstance(body, dict) and "error" in body, "an error without {\"error\": …}:\n" + answer.describe()
        return answer.status

    def still_up(self, after):
        """The server answers /health with 200 after `after` (an Answer)."""
        __tracebackhide__ = True
        try:
            status = requests.get(self.server.url + "/health", timeout=REQUEST_TIMEOUT).status_code
        except requests.RequestException:
            status = None
        if status is None:
            self.server.died(after.describe())  # raises if it crashed or hung
            status = requests.get(self.server.url + "/health", timeout=REQUEST_TIMEOUT).status_code
        assert status == 200, f"/health answered {status} after:\n" + after.describe()


def _binary():
    binary = os.environ.get("DOSSIER_BIN", str(ROOT / ".build" / "testing" / "release" / "dossier"))
    if not os.access(binary, os.X_OK):
        pytest.fail(f"no dossier binary at {binary}: run scripts/test (it builds it), or set DOSSIER_BIN")
    return binary


_running = []


@pytest.fixture(scope="session")
def server():
    root = tempfile.mkdtemp(prefix="dossier-robustness-")
    instance = Server(_binary(), os.path.join(root, "data"), free_port())
    _running.append(instance)
    yield instance
    _running.remove(instance)
    instance.stop()
    if os.environ.get("DOSSIER_KEEP_DATA"):
        print(f"\nrobustness: data and server.log kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Each test starts with a running server and a fresh restart budget (a crash in an earlier
    test is already recorded), before any fixture of the test is set up."""
    for instance in _running:
        instance.begin_test()


def verified_account(server, email_address, password, first, last, timeout=30):
    """Signs `email_address` up through the API, then follows the link mailed to it, as its
    owner would."""
    answer = requests.post(server.url + "/api/v1/accounts", json={"email": email_address, "password": password, "firstName": first,
                                                                  "lastName": last, "language": "en"}, timeout=timeout)
    assert answer.status_code == 201, answer.text
    link = server.wait_for_link(email_address, "/verify-email")
    verified = requests.post(server.url + "/api/v1/accounts/verify", json={"token": link}, timeout=timeout)
    assert verified.status_code == 200, verified.text


def _sign_up(api, email_address, password, first, last):
    answer = api.send("POST", "/api/v1/accounts", auth=False, json_body={
        "email": email_address, "password": password, "firstName": first, "lastName": last, "language": "en"})
    assert answer.status == 201, "sign-up of a test account:\n" + answer.describe()
    api.secrets.update({email_address, password})
    api.recipients.add(email_address.lower())


@pytest.fixture(scope="session")
def api(server):
    """A verified, signed-in tenant; a second account with a live password-reset token
    (`api.state["reset"]`). Sign-ups and reset requests are rate-limited, so this is all done
    once, first."""
    client = Api(server)
    tag = secrets.token_hex(4)
    main = {"email": f"rb-main-{tag}@example.org", "password": f"Lantern harbour {tag} quietly",
            "first": "Camille", "last": "Robustesse"}
    other = {"email": f"rb-reset-{tag}@example.org", "password": f"Velvet compass {tag} morning",
             "first": "Dominique", "last": "Extreme"}
    _sign_up(client, main["email"], main["password"], main["first"], main["last"])
    _sign_up(client, other["email"], other["password"], other["first"], other["last"])
    forgot = client.send("POST", "/api/v1/password/forgot", auth=False, json_body={"email": other["email"]})
    assert forgot.status == 202, "password reset request for a test account:\n" + forgot.describe()

    verification = server.wait_for_link(main["email"], "/verify-email")
    client.secrets.add(verification)
    verified = client.send("POST", "/api/v1/accounts/verify", auth=False, json_body={"token": verification})
    assert verified.status == 200, "email verification of the test account:\n" + verified.describe()

    session = client.send("POST", "/api/v1/sessions", auth=False,
                          json_body={"email": main["email"], "password": main["password"]})
    assert session.status == 201, "sign-in of the test account:\n" + session.describe()
    client.token = session.json()["token"]
    client.secrets.add(client.token)
    me = client.get_json("/api/v1/me")
    assert me.get("emailVerified") is True, f"the test account is not verified: {me}"

    reset = server.wait_for_link(other["email"], "/password/reset")
    client.secrets.add(reset)
    client.state.update(main=main, other=other, reset=reset, verification=verification, passwords={main["password"], other["password"]})
    return client


def confirm_address(server, address):
    """Confirms a recipient organisation's address as its mailbox's reader would: the mailed
    link's page, then its form (with the CSRF token the page gives)."""
    token = server.wait_for_link(address, "/organisation/confirm")
    browser = requests.Session()
    page = browser.get(server.url + "/organisation/confirm", params={"token": token, "lang": "en"}, timeout=30)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    confirmed = browser.post(server.url + "/organisation/confirm?lang=en", data={"csrf": csrf, "token": token}, timeout=30)
    assert confirmed.status_code == 200 and "now reach the inbox" in confirmed.text, confirmed.text
    return token


@pytest.fixture(scope="session")
def organisation(api):
    """A recipient organisation registered with `dossier organisation create --email`, and its
    administrator, invited with `dossier organisation invite --admin` and joined through the
    emailed link: `token` (the administrator's), `id`, `email` (the address tenants share with)."""
    tag = secrets.token_hex(4)
    address, admin, password = f"agency-{tag}@example.org", f"agency-boss-{tag}@example.org", f"Copper lantern {tag} evening"
    env = api.server.env
    created = subprocess.run([_binary(), "organisation", "create", "--name", "Agence Robuste", "--kind", "agency", "--email", address,
                              "--language", "en"], env=env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    api.secrets.add(confirm_address(api.server, address))
    identifier = created.stdout.strip().split()[-1]
    invited = subprocess.run([_binary(), "organisation", "invite", identifier, "--email", admin, "--admin", "--language", "en"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert invited.returncode == 0, invited.stderr
    api.recipients.update({admin.lower(), address.lower()})
    token = api.server.wait_for_link(admin, "/organisation/join")
    api.secrets.update({token, password})
    joined = api.send("POST", "/api/v1/organisation/join", auth=False,
                      json_body={"token": token, "firstName": "Bea", "lastName": "Robuste", "password": password})
    assert joined.status == 201, "joining the test organisation:\n" + joined.describe()
    session = api.send("POST", "/api/v1/sessions", auth=False, json_body={"email": admin, "password": password})
    assert session.status == 201, session.describe()
    api.secrets.add(session.json()["token"])
    return {"token": session.json()["token"], "id": identifier, "email": address, "member": joined.json()["id"]}


def pdf_upload(type_id, pdf, name="payslip.pdf"):
    """The multipart body of an upload of one PDF as document type `type_id`, and its content type."""
    boundary = "robustness" + secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n{type_id}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="session")
def document(api):
    """A real document of the tenant (one PDF file): its id and the file's bytes."""
    catalogue = api.send("GET", "/api/v1/catalogue/documents", auth=False)
    assert catalogue.status == 200, catalogue.describe()
    type_id = next(entry["id"] for entry in catalogue.json() if not entry["forbidden"] and "tenant" in entry["for"])
    pdf = (UPLOADS / "payslip.pdf").read_bytes()
    body, content_type = pdf_upload(type_id, pdf)
    answer = api.send("POST", "/api/v1/me/documents", body=body, content_type=content_type)
    assert answer.status == 201, "upload of the test document:\n" + answer.describe()
    return Document(id=answer.json()["id"], type=type_id, bytes=pdf)


class Document(dict):
    """The test document: `id`, `type`, `bytes`; short when Hypothesis prints it."""

    def __repr__(self):
        return f"Document(id={self['id']!r}, type={self['type']!r}, {len(self['bytes'])} bytes)"


# Summary lines (the crash runs, the soak) printed at the end of the run whatever pytest's
# capture and verbosity: `.ci/run` collects them into the reliability suite's summary.
SUMMARY = []


def summary(line):
    SUMMARY.append(line)


def pytest_terminal_summary(terminalreporter):
    for line in SUMMARY:
        terminalreporter.write_line(line)
