"""`DOSSIER_BLOBS_URL=s3://bucket/prefix` (CONTRACT.md) end to end: a real `dossier serve` keeps
its documents in a real S3-compatible server on loopback (moto's, which checks every request's
signature), seen from outside with boto3: the objects are there, sealed (never the PDF's
bytes), read back through the API, agree with `dossier verify`, and an erasure deletes them.
"""
import os
import secrets
import shutil
import subprocess
import tempfile

import boto3
import pytest
import requests

from conftest import ROOT, UPLOADS, Server, _binary, free_port, pdf_upload, verified_account

BUCKET, PREFIX = "dossier-e2e", "instance-a/"


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server (Tests/Tools/s3_server.py): its endpoint and an IAM user's key."""
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(["python3", str(ROOT / "Tests" / "Tools" / "s3_server.py"), "--port", str(port)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        words = process.stdout.readline().split()
        if len(words) == 4 and words[0] == "ready":
            break
        process.kill()
        process.wait()
    else:
        pytest.fail("the S3 test server did not start (pip install -r Tests/requirements.txt)")
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": words[2], "AWS_SECRET_ACCESS_KEY": words[3]}
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                          aws_access_key_id=words[2], aws_secret_access_key=words[3])
    yield env, client
    process.stdin.close()
    process.kill()
    process.wait()


def objects(client):
    # Listed without the prefix's '/': moto reads a '/' in a signed query value back unencoded,
    # and refuses the signature (as it would the server's; S3 itself takes either).
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX.rstrip("/"))
    return [entry["Key"] for entry in listed.get("Contents", []) if entry["Key"].startswith(PREFIX)]


def test_documents_live_in_the_object_store_and_an_erasure_deletes_them(s3):
    env, client = s3
    root = tempfile.mkdtemp(prefix="dossier-s3-")
    server = Server(_binary(), os.path.join(root, "data"), free_port(), env=dict(env, DOSSIER_BLOBS_URL=f"s3://{BUCKET}/{PREFIX}"))
    try:
        # The server made its bucket at start, and says it is ready.
        ready = requests.get(server.url + "/health/ready", timeout=30)
        assert ready.status_code == 200 and ready.json()["blobs"] == "ok", ready.text
        assert objects(client) == []

        address, password = f"s3-{secrets.token_hex(4)}@example.org", f"Granite orchard {secrets.token_hex(4)} softly"
        verified_account(server, address, password, "Sam", "Objet", timeout=60)
        session = requests.post(server.url + "/api/v1/sessions", json={"email": address, "password": password}, timeout=60)
        assert session.status_code == 201, session.text
        auth = {"Authorization": "Bearer " + session.json()["token"]}

        catalogue = requests.get(server.url + "/api/v1/catalogue/documents", timeout=30).json()
        type_id = next(entry["id"] for entry in catalogue if not entry["forbidden"] and "tenant" in entry["for"])
        pdf = (UPLOADS / "payslip.pdf").read_bytes()
        body, content_type = pdf_upload(type_id, pdf)
        uploaded = requests.post(server.url + "/api/v1/me/documents", data=body, headers=dict(auth, **{"Content-Type": content_type}), timeout=120)
        assert uploaded.status_code == 201, uploaded.text
        document = uploaded.json()["id"]

        stored = objects(client)
        assert len(stored) == 1, stored
        sealed = client.get_object(Bucket=BUCKET, Key=stored[0])["Body"].read()
        assert b"%PDF" not in sealed and pdf[:200] not in sealed, "the object store holds ciphertext only"
        assert not list((server.data_dir / "blobs").rglob("*")) if (server.data_dir / "blobs").exists() else True

        content = requests.get(server.url + f"/api/v1/me/documents/{document}/content", headers=auth, timeout=60)
        assert content.status_code == 200 and content.content.startswith(b"%PDF"), content.status_code

        verified = subprocess.run([_binary(), "verify"], env=server.env, capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, verified.stdout + verified.stderr

        # An object under the prefix that is no blob: reported by `verify`, never deleted.
        client.put_object(Bucket=BUCKET, Key=PREFIX + "README.txt", Body=b"operator's note")
        verified = subprocess.run([_binary(), "verify", "--remove-orphans"], env=server.env, capture_output=True, text=True, timeout=120)
        assert verified.returncode == 1 and "README.txt" in verified.stdout + verified.stderr, verified.stdout + verified.stderr
        assert PREFIX + "README.txt" in objects(client)
        assert stored[0] in objects(client), "--remove-orphans left the document's own object"
        client.delete_object(Bucket=BUCKET, Key=PREFIX + "README.txt")

        erased = requests.delete(server.url + "/api/v1/me", headers=auth, timeout=60)
        assert erased.status_code == 200, erased.text
        assert objects(client) == [], "the erasure deleted the document's object"
        assert env["AWS_SECRET_ACCESS_KEY"] not in server.log_text()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_wrong_secret_stops_the_start_with_a_clear_message(s3):
    env, _ = s3
    root = tempfile.mkdtemp(prefix="dossier-s3-")
    try:
        data = os.path.join(root, "data")
        wrong = dict(os.environ, DOSSIER_DATA_DIR=data, DATABASE_URL="", DOSSIER_BLOBS_URL=f"s3://{BUCKET}/{PREFIX}",
                     **dict(env, AWS_SECRET_ACCESS_KEY="certainly-not-the-secret"))
        done = subprocess.run([_binary(), "serve", "--port", str(free_port())], env=wrong, capture_output=True, text=True, timeout=120)
        assert done.returncode != 0
        assert "refuses" in done.stderr and "certainly-not-the-secret" not in done.stdout + done.stderr, done.stderr
        unset = dict(wrong)
        del unset["AWS_SECRET_ACCESS_KEY"]
        checked = subprocess.run([_binary(), "config", "check"], env=unset, capture_output=True, text=True, timeout=60)
        assert checked.returncode == 1 and "AWS_SECRET_ACCESS_KEY" in checked.stderr, checked.stdout + checked.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
