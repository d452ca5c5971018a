"""Hostile HTTP requests, as raw bytes on a socket (so framing can lie), and their answers.

Shared by the fuzz tests and `benchmarks/edge_fuzz.py`: each case is a name and the bytes
of one request; `send` returns the status (None if the server closed without answering),
the body and the seconds it took.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ROUTE = "/api/messages"


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: bytes
    seconds: float

    @property
    def server_error(self) -> bool:
        return self.status is not None and self.status >= 500 and self.status != 503

    @property
    def leaks(self) -> bool:
        """A stack trace or an exception name in the body."""
        return b"Traceback" in self.body or b'File "' in self.body


def request(
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = ROUTE,
    length: int | None = None,
    chunked: bool = False,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    given = {"Content-Type": "application/json"} | (headers or {})
    lines += [f"{name}: {value}" for name, value in given.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def send(port: int, data: bytes, *, timeout: float = 20.0) -> Answer:
    started = time.perf_counter()
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            while chunk := sock.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            pass  # no (complete) answer: status None
    seconds = time.perf_counter() - started
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return Answer(None, bytes(received), seconds)
    return Answer(int(head.split()[1]), body, seconds)


@functools.cache
def _untrusted_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged_token(*, kid: str | None = None, **claims: Any) -> str:
    """A well-formed RS256 token signed by a key nobody trusts (a random key id by default)."""
    key = _untrusted_key()
    now = int(time.time())
    payload = {"iss": "https://api.botframework.com", "aud": "x", "nbf": now, "exp": now + 600}
    return jwt.encode(
        payload | claims, key, algorithm="RS256", headers={"kid": kid or uuid.uuid4().hex}
    )


def activity(
    service_url: str = "https://smba.trafficmanager.net/emea/", **extra: Any
) -> dict[str, Any]:
    body = {
        "type": "conversationUpdate",
        "id": "f:1",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": "29:x"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:fuzz"},
    }
    return body | extra


Case = tuple[str, bytes]


def hand_picked(authorization: Callable[[], str] | None) -> Iterator[Case]:
    """The probe's kinds of hostile request; `authorization()` gives a valid header, if any,
    so that the body checks are reached with authentication on."""
    auth = {"Authorization": authorization()} if authorization else {}
    deep_array = b"[" * 1000 + b"]" * 1000
    deep_object = b'{"a":' * 1000 + b"1" + b"}" * 1000
    valid = json.dumps(activity()).encode()
    yield "deep array", request(deep_array, headers=auth)
    yield "deep object", request(deep_object, headers=auth)
    yield "deep array, no token", request(deep_array)
    yield (
        "deep inside an activity",
        request(valid[:-1] + b',"value":' + b"[" * 3000 + b"]" * 3000 + b"}", headers=auth),
    )
    yield "unclosed deep array", request(b"[" * 200_000, headers=auth)
    yield "invalid utf-8", request(b'{"type": "\xff\xfe"}', headers=auth)
    yield "utf-16 json", request(json.dumps(activity()).encode("utf-16"), headers=auth)
    yield "lying gzip", request(b"not gzip at all", headers=auth | {"Content-Encoding": "gzip"})
    yield "real gzip", request(gzip.compress(valid), headers=auth | {"Content-Encoding": "gzip"})
    yield "lying deflate", request(b"\x00\x01", headers=auth | {"Content-Encoding": "deflate"})
    yield (
        "real deflate",
        request(zlib.compress(valid), headers=auth | {"Content-Encoding": "deflate"}),
    )
    yield "brotli", request(b"\x8b", headers=auth | {"Content-Encoding": "br"})
    yield (
        "gzip bomb",
        request(gzip.compress(b" " * 10_000_000), headers=auth | {"Content-Encoding": "gzip"}),
    )
    yield "huge body", request(b" " * 300_000 + b"{}", headers=auth)
    yield "huge chunked body", request(b" " * 300_000 + b"{}", headers=auth, chunked=True)
    yield "huge declared length", request(b"{}", headers=auth, length=10**12)
    yield "negative length", request(b"{}", headers=auth, length=-1)
    yield "empty body", request(b"", headers=auth)
    yield "null", request(b"null", headers=auth)
    yield "a number", request(b"1e400", headers=auth)
    yield "NaN", request(b'{"type": NaN}', headers=auth)
    yield "huge string", request(json.dumps({"type": "x" * 200_000}).encode(), headers=auth)
    yield "text/plain", request(valid, headers=auth | {"Content-Type": "text/plain"})
    yield "no content type", request(valid, headers=auth | {"Content-Type": ""})
    yield "GET", request(b"", method="GET", headers=auth)
    yield (
        "unknown activity type",
        request(json.dumps(activity(type="weird")).encode(), headers=auth),
    )
    yield (
        "unknown invoke",
        request(
            json.dumps(activity(type="invoke", name="composeExtension/query", value={})).encode(),
            headers=auth,
        ),
    )
    yield (
        "invoke without a name",
        request(json.dumps(activity(type="invoke")).encode(), headers=auth),
    )
    yield (
        "card action, no value",
        request(
            json.dumps(activity(type="invoke", name="adaptiveCard/action")).encode(), headers=auth
        ),
    )
    yield (
        "from is a string",
        request(
            json.dumps(activity(**{"from": "me", "type": "message", "text": "hi"})).encode(),
            headers=auth,
        ),
    )
    yield (
        "conversation id is a number",
        request(json.dumps(activity(conversation={"id": 5})).encode(), headers=auth),
    )
    yield (
        "members is a dict",
        request(json.dumps(activity(membersAdded={"a": 1})).encode(), headers=auth),
    )
    yield (
        "channel id is a list",
        request(json.dumps(activity(channelId=["msteams"])).encode(), headers=auth),
    )
    for name, header in forged_headers():
        yield f"token: {name}", request(valid, headers={"Authorization": header})


def forged_headers() -> Iterator[tuple[str, str]]:
    yield "empty", ""
    yield "bearer only", "Bearer"
    yield "bearer space", "Bearer "
    yield "basic", "Basic dXNlcjpwYXNz"
    yield "garbage", "Bearer not.a.jwt"
    yield "dots", "Bearer ...."
    yield "huge", "Bearer " + "a" * 7000
    yield "alg none", "Bearer " + jwt.encode({"iss": "x"}, None, algorithm="none")
    yield "HS256", "Bearer " + jwt.encode({"iss": "x"}, "secret", algorithm="HS256")
    yield "unknown kid", "Bearer " + forged_token()
    yield "kid is a number", "Bearer " + _with_header({"kid": 5, "alg": "RS256"})
    yield "kid is huge", "Bearer " + forged_token(kid="k" * 4000)
    yield "no kid", "Bearer " + _with_header({"alg": "RS256"})
    yield "expired", "Bearer " + forged_token(exp=1)


def flood(port: int, count: int, threads: int = 8) -> list[int | None]:
    """`count` requests with forged tokens of random key ids, `threads` at a time: their
    statuses. Run in another process, so that its threads do not share the bot's GIL."""
    from concurrent.futures import ThreadPoolExecutor

    body = json.dumps(activity()).encode()
    data = [
        request(body, headers={"Authorization": f"Bearer {forged_token()}"}) for _ in range(count)
    ]
    with ThreadPoolExecutor(threads) as pool:
        return [answer.status for answer in pool.map(lambda d: send(port, d, timeout=15), data)]


def _with_header(header: dict[str, Any]) -> str:
    import base64

    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part({'iss': 'x'})}.c2lnbmF0dXJl"
