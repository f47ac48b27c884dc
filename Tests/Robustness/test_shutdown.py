"""A server stopped with SIGTERM while it answers requests finishes them and exits cleanly:
status 0, no runtime trap in its log (a handler whose client had gone used to reach for the
closed database and stop the process with a trap)."""
import os
import shutil
import signal
import tempfile
import threading

import requests

from conftest import Api, Server, _binary, _sign_up, free_port


def test_sigterm_under_load_exits_cleanly():
    root = tempfile.mkdtemp(prefix="dossier-shutdown-")
    server = Server(_binary(), os.path.join(root, "data"), free_port())
    try:
        api = Api(server)
        _sign_up(api, "shutdown@example.org", "Harbour lantern quietly 7", "Sam", "Stop")
        token = server.wait_for_link("shutdown@example.org", "/verify-email")
        assert api.send("POST", "/api/v1/accounts/verify", auth=False, json_body={"token": token}).status == 200
        session = api.send("POST", "/api/v1/sessions", auth=False,
                           json_body={"email": "shutdown@example.org", "password": "Harbour lantern quietly 7"})
        bearer = session.json()["token"]
        stop = threading.Event()

        def hammer():
            http = requests.Session()
            while not stop.is_set():
                try:
                    http.get(server.url + "/api/v1/me/documents", headers={"Authorization": f"Bearer {bearer}"}, timeout=5)
                except requests.RequestException:
                    http = requests.Session()

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for thread in threads:
            thread.start()
        try:
            # Under load for a moment, then stopped as a service manager would.
            for _ in range(40):
                requests.get(server.url + "/health", timeout=5)
            server.process.send_signal(signal.SIGTERM)
            status = server.process.wait(timeout=60)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
        log = server.log_text()
        at = log.find(" crashed:")
        assert "runtime failure" not in log and "Backtracing" not in log, log[log.find("*** "):log.find("*** ") + 300] + log[at:at + 2500]
        assert status == 0, f"exit status {status}:\n{log[-2000:]}"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
