"""Identity tokens as Cloud Run's IAM front reads them (JWTs the tests mint, the claims the fake checks), and key files.

No signature is made or checked (the fake trusts what the tests mint); the shape, the audience (aud) and the
expiry (exp) are what Cloud Run refuses a request for, so those are real.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

DEPLOYER = "deployer@test-project.iam.gserviceaccount.com"
# The aud of a user account's `gcloud auth print-identity-token`: gcloud's own OAuth client id.
GCLOUD_CLIENT_ID = "32555940559.apps.googleusercontent.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(audience: str, email: str = DEPLOYER, lifetime_s: int = 3600) -> str:
    """A Google-shaped ID token (header.payload.signature) for audience, valid lifetime_s (negative: expired)."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": "fake"}
    payload = {"iss": "https://accounts.google.com", "aud": audience, "azp": email, "email": email,
               "email_verified": True, "sub": "1", "iat": now, "exp": now + lifetime_s}  # fmt: skip
    parts = [_b64(json.dumps(part).encode()) for part in (header, payload)]
    return ".".join([*parts, _b64(b"unsigned: the fake checks no signature")])


def claims(token: str) -> dict | None:
    """The payload of a JWT, unverified; None when the token is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def refusal(authorization: str, accepted: list[str]) -> str | None:
    """Why Cloud Run's IAM front refuses a request with this Authorization header; None when it lets it through."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "no identity token (Authorization: Bearer) was sent"
    payload = claims(token.strip())
    if payload is None:
        return "the bearer token is not an ID token (a JWT)"
    if float(payload.get("exp", 0)) <= time.time():
        return "the ID token has expired"
    audiences = payload.get("aud") if isinstance(payload.get("aud"), list) else [payload.get("aud")]
    if not set(audiences) & set(accepted):
        return f"the ID token's audience {payload.get('aud')!r} is not one of {accepted}"
    return None


def service_account_key_file(
    folder: Path, token_uri: str, email: str = "penguin-laptop@fake-project.iam.gserviceaccount.com"
) -> Path:
    """A key file as `gcloud iam service-accounts keys create` writes one (a throwaway RSA key), its token_uri given."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = folder / "key.json"
    info = {
        "type": "service_account",
        "project_id": email.split("@")[1].split(".")[0],
        "private_key_id": "fake",
        "private_key": pem.decode(),
        "client_email": email,
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path
