"""A real `dossier serve` on loopback and a real headless Chromium driven by Selenium."""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = pathlib.Path(os.environ.get("DOSSIER_SCREENSHOTS", tempfile.gettempdir())) / "dossier-screenshots"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data_dir, port):
        self.url = f"http://127.0.0.1:{port}"
        self.data_dir = pathlib.Path(data_dir)
        self.binary = binary
        env = dict(os.environ, DOSSIER_DATA_DIR=str(data_dir), DOSSIER_BASE_URL=self.url, DATABASE_URL="")
        self.env = env
        self.log_path = self.data_dir.parent / "server.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dossier serve exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("dossier serve did not answer within 60 s")

    def outbox(self):
        directory = self.data_dir / "outbox"
        return sorted(directory.glob("*.eml")) if directory.exists() else []

    def wait_for_mail(self, count, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            files = self.outbox()
            if len(files) >= count:
                return files
            time.sleep(0.25)
        raise AssertionError(f"expected {count} message(s) in the outbox, found {len(self.outbox())}")

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def server():
    binary = os.environ.get("DOSSIER_BIN", str(ROOT / ".build" / "testing" / "release" / "dossier"))
    if not os.access(binary, os.X_OK):
        pytest.fail(f"no dossier binary at {binary}: run scripts/test (it builds it), or set DOSSIER_BIN")
    root = tempfile.mkdtemp(prefix="dossier-browser-")
    instance = Server(binary, os.path.join(root, "data"), free_port())
    yield instance
    instance.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def wait_until_gone(driver, element, timeout=30):
    """Waits until `element` has left the page (the next page replaced it).

    chromedriver reports a node of a replaced document either as stale or as "Node with given
    id does not belong to the document"; both mean it is gone.
    """
    def gone(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, timeout).until(gone)


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
