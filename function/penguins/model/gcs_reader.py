"""Cloud Storage objects through the JSON API, with the standard library: metadata, then the bytes of that generation.

Who signs the requests is decided once per reader, without a slow probe (docs/storage.md):
- STORAGE_EMULATOR_HOST set: that emulator, with no token (unless GCE_METADATA_HOST is set too: then the
  metadata server's token is sent, as on the platform; the tests put an authenticating proxy there).
- K_SERVICE set (Cloud Run, so every 2nd gen function) or GCE_METADATA_HOST set: the metadata server's token.
- Neither: one probe of the metadata server's address, at most PROBE_TIMEOUT_SECONDS (a Compute Engine or
  GKE instance answers in milliseconds); when it does not answer, Application Default Credentials through
  google-auth, imported only then (a developer's laptop).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import random
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping
from datetime import UTC
from typing import Any, NamedTuple, Protocol

from ..errors import StorageError

STORAGE_API = "https://storage.googleapis.com"
METADATA_HOST = "metadata.google.internal"
METADATA_IP = "169.254.169.254"
TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 0.5
# A token is replaced this long before it expires (google-auth: 3 min 45 s), so no call carries a stale one.
TOKEN_EARLY_SECONDS = 300.0
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 1.0
MAX_METADATA_BYTES = 1 << 20
MAX_OBJECT_BYTES = 256 << 20
CHUNK_BYTES = 1 << 16
ERROR_BODY_BYTES = 1 << 12
INSTALL_HINT = (
    "no metadata server answered and STORAGE_EMULATOR_HOST is unset, so Application Default Credentials are "
    "needed, and they need google-auth: `pip install google-auth requests` (the development set, "
    "requirements.txt, has both), then `gcloud auth application-default login`"
)
NO_ADC = (
    "no metadata server answered and no Application Default Credentials are set up: run "
    "`gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS)"
)


class GcsError(StorageError):
    """Cloud Storage could not be read; str() is safe to show, `detail` (hosts, bodies) is for the log."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail or message


class ObjectMissing(GcsError):
    """The object (or the bucket) does not exist: HTTP 404."""


class CredentialsError(GcsError):
    """No access token could be had: the metadata server refused, or no credentials are set up."""


class ObjectInfo(NamedTuple):
    """The object metadata a read is pinned to and checked against."""

    generation: int
    size: int
    md5_hash: str | None
    crc32c: str | None


class TokenSource(Protocol):
    """Where access tokens come from."""

    def token(self, deadline: float) -> str | None:
        """A valid access token (None: send none), within the deadline."""

    def forget(self) -> None:
        """Drop the cached token: storage refused it."""


class Endpoint(NamedTuple):
    """scheme://host[:port] of an HTTP service."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """http://127.0.0.1:4443, https://storage.googleapis.com, or host:port (http)."""
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GcsError(f"{url!r} is not an http(s)://HOST[:PORT] address")
        return cls(parts.scheme, parts.hostname, parts.port)


class _Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    global _tls_context
    if _tls_context is None:  # the system's CA certificates, loaded once and only for https
        _tls_context = ssl.create_default_context()
    return _tls_context


def _get(endpoint: Endpoint, path: str, headers: Mapping[str, str], deadline: float, max_bytes: int) -> _Answer:
    """One GET: connect and each read bounded by their timeouts and by the deadline; the body read up to max_bytes."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no time left")
    timeout = min(CONNECT_TIMEOUT_SECONDS, left)
    connection: http.client.HTTPConnection
    if endpoint.scheme == "https":
        connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout, context=_tls())
    else:
        connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)
    try:
        connection.connect()
        connection.request("GET", path, headers=dict(headers))
        chunks, size = [], 0
        _bound_read(connection, deadline)
        response = connection.getresponse()
        limit = max_bytes if response.status == 200 else ERROR_BODY_BYTES  # an error's body: its start, for logs
        while size <= limit:
            _bound_read(connection, deadline)
            chunk = response.read(CHUNK_BYTES)
            if not chunk:
                break
            size += len(chunk)
            chunks.append(chunk)
        if size > limit and response.status == 200:
            raise GcsError("storage sent more bytes than the object has", f"over {max_bytes} bytes from {path}")
        return _Answer(response.status, response.headers, b"".join(chunks)[:limit])
    finally:
        connection.close()


def _bound_read(connection: http.client.HTTPConnection, deadline: float) -> None:
    """The next socket read waits at most READ_TIMEOUT_SECONDS, and never past the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no time left")
    if connection.sock is not None:
        connection.sock.settimeout(min(READ_TIMEOUT_SECONDS, left))


def _get_with_retries(
    endpoint: Endpoint, path: str, headers: Mapping[str, str], deadline: float, max_bytes: int, what: str
) -> _Answer:
    """GET, retried with jittered exponential backoff on connection errors, 408, 429 and 5xx, within the deadline."""
    problem = ""
    for attempt in range(MAX_ATTEMPTS):
        try:
            answer = _get(endpoint, path, headers, deadline, max_bytes)
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, a malformed answer
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status not in RETRYABLE_STATUSES:
                return answer
            problem = f"HTTP {answer.status}: {answer.body[:200]!r}"
        pause = random.uniform(0, min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2**attempt))
        if time.monotonic() + pause >= deadline:
            break
        time.sleep(pause)
    tries = attempt + 1
    raise GcsError(
        f"{what} did not answer or failed; gave up after {tries} {'try' if tries == 1 else 'tries'}",
        f"{what} at {endpoint.scheme}://{endpoint.host}:{endpoint.port}{path}: {problem}",
    )


class NoTokens:
    """An emulator: requests carry no token."""

    def token(self, deadline: float) -> str | None:
        return None

    def forget(self) -> None:
        pass


class _CachedToken:
    """A token with its expiry, shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0  # monotonic

    def token(self, deadline: float) -> str | None:
        with self._lock:  # one fetch at a time: the threads that arrive meanwhile reuse its token
            if self._token is None or time.monotonic() >= self._refresh_at:
                token, expires_in = self._fetch(deadline)
                early = min(TOKEN_EARLY_SECONDS, expires_in / 2)
                self._token, self._refresh_at = token, time.monotonic() + expires_in - early
            return self._token

    def forget(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self, deadline: float) -> tuple[str, float]:
        raise NotImplementedError


class MetadataTokens(_CachedToken):
    """The instance's service account token from the metadata server, cached until shortly before it expires."""

    def __init__(self, host: str):
        super().__init__()
        self.endpoint = Endpoint.parse(host)

    def _fetch(self, deadline: float) -> tuple[str, float]:
        flavor = {"Metadata-Flavor": "Google"}
        answer = _get_with_retries(
            self.endpoint, TOKEN_PATH, flavor, deadline, MAX_METADATA_BYTES, "the metadata server"
        )
        if answer.status != 200:
            raise CredentialsError(
                f"the metadata server refused an access token (HTTP {answer.status}): the function needs a service "
                "account that may read the bucket (deploy.sh creates one with roles/storage.objectViewer)",
                f"metadata server {self.endpoint.host}: HTTP {answer.status}: {answer.body[:200]!r}",
            )
        try:
            data = json.loads(answer.body)
            token, expires_in = str(data["access_token"]), float(data["expires_in"])
            if not token or not 0 < expires_in < 1e6:  # also refuses NaN, which would never expire
                raise ValueError(expires_in)
            return token, expires_in
        except (ValueError, KeyError, TypeError):
            raise CredentialsError(
                "the metadata server's token answer is not JSON with access_token and expires_in",
                f"metadata server token answer: {answer.body[:200]!r}",
            ) from None


class AdcTokens(_CachedToken):
    """Application Default Credentials through google-auth, imported on first use (a laptop, not the platform)."""

    def __init__(self) -> None:
        super().__init__()
        self._credentials: Any = None  # google.auth.credentials.Credentials, found on first use

    def _fetch(self, deadline: float) -> tuple[str, float]:
        try:
            import google.auth
            import google.auth._cloud_sdk
            import google.auth.exceptions
            import google.auth.transport.requests
        except ImportError:
            raise CredentialsError(INSTALL_HINT) from None
        # Without a credentials file google-auth would probe the metadata server again, for up to 9 s: ours
        # has already had no answer, so say at once what to set up.
        well_known = google.auth._cloud_sdk.get_application_default_credentials_path()
        if not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") and not os.path.exists(well_known):
            raise CredentialsError(NO_ADC)
        try:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=[READ_ONLY_SCOPE])
            credentials = self._credentials
            timeout = max(0.1, min(CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS, deadline - time.monotonic()))
            request = google.auth.transport.requests.Request()
            credentials.refresh(lambda *args, **kw: request(*args, **{**kw, "timeout": timeout}))  # else 120 s
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise CredentialsError(NO_ADC, f"google-auth: {exc}") from None
        except google.auth.exceptions.GoogleAuthError as exc:
            raise CredentialsError(
                "Application Default Credentials gave no access token: run `gcloud auth application-default login`",
                f"google-auth: {type(exc).__name__}: {exc}",
            ) from None
        expiry = credentials.expiry  # naive UTC; None for a token without one
        expires_in = 3600.0 if expiry is None else expiry.replace(tzinfo=UTC).timestamp() - time.time()
        return credentials.token, max(expires_in, 1.0)


def metadata_server_answers(address: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """One bounded GET of the metadata server's root: True when it answers as Google's does."""
    try:
        answer = _get(
            Endpoint.parse(address),
            "/computeMetadata/v1/",
            {"Metadata-Flavor": "Google"},
            time.monotonic() + timeout,
            MAX_METADATA_BYTES,
        )
    except (OSError, http.client.HTTPException, GcsError):
        return False
    return answer.headers.get("Metadata-Flavor") == "Google"


def token_source(environ: Mapping[str, str]) -> TokenSource:
    """Who signs requests here (see the module docstring)."""
    metadata_host = environ.get("GCE_METADATA_HOST")
    if environ.get("STORAGE_EMULATOR_HOST") and not metadata_host:
        return NoTokens()
    if metadata_host or environ.get("K_SERVICE"):
        return MetadataTokens(metadata_host or METADATA_HOST)
    address = environ.get("GCE_METADATA_IP") or METADATA_IP
    if metadata_server_answers(address):
        return MetadataTokens(address)
    return AdcTokens()


class GcsReader:
    """Reads objects of one bucket: metadata, then the media at exactly that generation, checked."""

    def __init__(self, bucket: str, endpoint: str, tokens: TokenSource):
        self.bucket = bucket
        self.endpoint = Endpoint.parse(endpoint)
        self.tokens = tokens

    @classmethod
    def from_environment(cls, bucket: str, environ: Mapping[str, str] = os.environ) -> GcsReader:
        """The emulator when STORAGE_EMULATOR_HOST is set, else Cloud Storage; credentials as the module says."""
        return cls(bucket, environ.get("STORAGE_EMULATOR_HOST") or STORAGE_API, token_source(environ))

    def _object_path(self, name: str) -> str:
        return f"/storage/v1/b/{urllib.parse.quote(self.bucket, safe='')}/o/{urllib.parse.quote(name, safe='')}"

    def _call(self, path: str, deadline: float, max_bytes: int, name: str) -> _Answer:
        """An authenticated GET of the storage API; a 401 fetches a new token once."""
        for renewed in (False, True):
            token = self.tokens.token(deadline)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = _get_with_retries(self.endpoint, path, headers, deadline, max_bytes, "the model store")
            if answer.status == 401 and not renewed:
                self.tokens.forget()
                continue
            if answer.status == 404:
                raise ObjectMissing(f"{name} does not exist", f"HTTP 404 for {path}")
            if answer.status in (401, 403):
                raise CredentialsError(
                    f"the model store refused to read {name} (HTTP {answer.status}): the function's service account "
                    "needs roles/storage.objectViewer on the bucket",
                    f"HTTP {answer.status} for {path}: {answer.body[:300]!r}",
                )
            return answer
        raise AssertionError("unreachable")

    def stat(self, name: str, deadline: float) -> ObjectInfo:
        """The object's generation, size and hashes (one small JSON answer)."""
        answer = self._call(self._object_path(name), deadline, MAX_METADATA_BYTES, name)
        if answer.status != 200:
            raise _unexpected(answer, name)
        try:
            data = json.loads(answer.body)
            info = ObjectInfo(
                int(data["generation"]), int(data["size"]), data.get("md5Hash") or None, data.get("crc32c") or None
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise GcsError(
                "the model store answered object metadata that is not JSON with a generation and a size",
                f"metadata of {name}: {answer.body[:200]!r}",
            ) from None
        if not 0 <= info.size <= MAX_OBJECT_BYTES:
            raise GcsError(f"{name} is {info.size} bytes: not a model artifact file (at most {MAX_OBJECT_BYTES})")
        return info

    def read(self, name: str, deadline: float) -> tuple[bytes, int]:
        """The object's bytes and their generation; never bytes of two generations, always checked."""
        for _ in range(2):  # an overwrite between the metadata and the media: read the new generation once
            info = self.stat(name, deadline)
            query = urllib.parse.urlencode({"alt": "media", "generation": info.generation})
            try:
                answer = self._call(f"{self._object_path(name)}?{query}", deadline, info.size, name)
            except ObjectMissing:
                continue  # that generation is gone: replaced (or deleted, which the next stat says)
            if answer.status != 200:
                raise _unexpected(answer, name)
            served = answer.headers.get("X-Goog-Generation")
            if served is not None and served != str(info.generation):
                continue
            _check_bytes(name, answer.body, info)
            return answer.body, info.generation
        raise GcsError(f"{name} changed twice while it was being read (a publisher is writing it): try again later")


def _unexpected(answer: _Answer, name: str) -> GcsError:
    return GcsError(
        f"the model store answered HTTP {answer.status} for {name}",
        f"HTTP {answer.status} for {name}: {answer.body[:300]!r}",
    )


def _check_bytes(name: str, data: bytes, info: ObjectInfo) -> None:
    """Length, then md5 (or crc32c when the object has no md5: composite objects) against the object's metadata."""
    if len(data) != info.size:
        raise GcsError(f"{name} arrived with {len(data)} bytes, but the object has {info.size}")
    if info.md5_hash is not None:
        if base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode() != info.md5_hash:
            raise GcsError(f"{name} arrived with bytes whose md5 differs from the object's md5Hash")
    elif info.crc32c is not None:
        if base64.b64encode(crc32c(data).to_bytes(4, "big")).decode() != info.crc32c:
            raise GcsError(f"{name} arrived with bytes whose crc32c differs from the object's")


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
        table.append(value)
    return table


_CRC32C_TABLE: list[int] = []


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) in pure Python: only objects without an md5 need it, so google-crc32c stays out."""
    if not _CRC32C_TABLE:
        _CRC32C_TABLE.extend(_crc32c_table())
    table, value = _CRC32C_TABLE, 0xFFFFFFFF
    for byte in data:
        value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
    return value ^ 0xFFFFFFFF
