"""Schemathesis hooks for Spontra's contract run (`tests/contract.rs`): sign every request in.

The account is named by the environment (`SPONTRA_CONTRACT_BASE`, `_EMAIL`, `_PASSWORD`, and
`_TOTP_SECRET` for an account with two-factor authentication, such as an administrator, whose
sessions must prove the second factor). A token stops working when the fuzzer itself ends the
session (it may revoke it through the session list); schemathesis then asks for a new one and
this signs in again. When the account can no longer sign in (the fuzzer deleted it, or its
wrong password guesses locked it) and `SPONTRA_CONTRACT_REGISTER` is set, a fresh account is
registered, so the rest of the run is still signed in.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import time
import urllib.error
import urllib.request
import uuid

import schemathesis

BASE = os.environ["SPONTRA_CONTRACT_BASE"]


def totp(secret: str, at: float) -> str:
    """RFC 6238 with SHA-1, 30-second steps, six digits (what authenticator apps use)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def post(path: str, body: dict) -> tuple[int, dict]:
    # The instance trusts X-Forwarded-For here: these sign-ins come from an address of their
    # own, so the fuzzer's wrong guesses from 127.0.0.1 do not throttle them.
    request = urllib.request.Request(
        f"{BASE}/api/v1{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.10"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


class Account:
    def __init__(self) -> None:
        self.email = os.environ["SPONTRA_CONTRACT_EMAIL"]
        self.password = os.environ["SPONTRA_CONTRACT_PASSWORD"]
        self.secret = os.environ.get("SPONTRA_CONTRACT_TOTP_SECRET")
        # The step whose code confirmed the enrolment (a code is accepted once).
        self.last_step = int(os.environ.get("SPONTRA_CONTRACT_TOTP_LAST_STEP", "-1"))

    def sign_in(self) -> str | None:
        status, body = post("/auth/login", {"email": self.email, "password": self.password})
        if status == 202 and self.secret:
            # A code is accepted once: wait for the next step when this one was used.
            step = int(time.time()) // 30
            if step <= self.last_step:
                time.sleep(30 - time.time() % 30 + 0.1)
                step = int(time.time()) // 30
            self.last_step = step
            status, body = post(
                "/auth/login/2fa",
                {"challenge": body["challenge"], "code": totp(self.secret, time.time())},
            )
        return body.get("access_token") if status == 200 else None

    def register(self) -> str | None:
        self.email = f"contract-{uuid.uuid4().hex[:12]}@example.com"
        status, _ = post(
            "/auth/register",
            {"email": self.email, "password": self.password, "display_name": "Contract"},
        )
        return self.sign_in() if status == 201 else None


ACCOUNT = Account()


@schemathesis.auth(refresh_interval=240)
class SpontraBearer:
    def get(self, case, ctx):
        token = ACCOUNT.sign_in()
        if token is None and os.environ.get("SPONTRA_CONTRACT_REGISTER"):
            token = ACCOUNT.register()
        if token is None:
            raise RuntimeError(f"{ACCOUNT.email} cannot sign in")
        return token

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
