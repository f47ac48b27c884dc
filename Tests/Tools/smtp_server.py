#!/usr/bin/env python3
"""A real SMTP server on loopback for Dossier's tests (aiosmtpd).

Each accepted message is written to DIR as a JSON file: envelope, whether the session used
TLS, who authenticated, and the message text. Prints "ready PORT" once listening.

  smtp_server.py --dir D [--port N] [--refuse-first] [--user U --password P] [--tls-dir T]

--refuse-first answers the first RCPT of the server's life with 451 (try again later).
--tls-dir makes a certificate authority and a certificate for "localhost" in T (ca.pem)
and offers STARTTLS with it.
"""
import argparse
import datetime
import ipaddress
import json
import os
import signal
import ssl
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def make_tls(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dossier test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    os.makedirs(directory, exist_ok=True)
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "cert.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(os.path.join(directory, "key.pem"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem"))
    return context


class Handler:
    def __init__(self, directory, refuse_first, reject_rcpt=False):
        self.directory = directory
        self.refuse_next = refuse_first
        self.reject_rcpt = reject_rcpt

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt:
            return f"550 5.1.1 <{address}>: no such user here"
        if self.refuse_next:
            self.refuse_next = False
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "auth": session.auth_data.login.decode() if session.authenticated and session.auth_data else None,
            "content": envelope.content.decode("utf-8", "replace"),
        }
        path = os.path.join(self.directory, f"{uuid.uuid4()}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.replace(path + ".tmp", path)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--refuse-first", action="store_true")
    parser.add_argument("--reject-rcpt", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--tls-dir")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    options = {}
    if args.user:
        options.update(authenticator=authenticate, auth_require_tls=False)
    if args.tls_dir:
        options.update(tls_context=make_tls(args.tls_dir), require_starttls=False)
    controller = Controller(Handler(args.dir, args.refuse_first, args.reject_rcpt), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print(f"ready {controller.port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
