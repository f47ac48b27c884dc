#!/usr/bin/env python3
"""A real S3-compatible server on loopback for the tests: moto's standalone server (moto[server]
from PyPI), with authentication on, so that every request's SigV4 signature is checked.

    s3_server.py --port PORT

Makes an IAM user allowed s3:* and prints "ready PORT ACCESS_KEY_ID SECRET_ACCESS_KEY" once
the server answers; then serves until stdin closes or it is killed. Nothing is kept on disk.
"""
import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # moto authenticates every request after this many (the three that make the user below).
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    import boto3
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    try:
        server.start()
    except OSError:
        return 1
    endpoint = f"http://127.0.0.1:{args.port}"
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="dossier")
    iam.put_user_policy(UserName="dossier", PolicyName="documents", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName="dossier")["AccessKey"]
    print(f"ready {args.port} {key['AccessKeyId']} {key['SecretAccessKey']}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
