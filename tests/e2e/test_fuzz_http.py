"""Hostile input over real HTTP, against the stack `make run` starts: every answer is the envelope (or a
documented raw success) with a 4xx or a success, never a 5xx, and a refused request leaves the table,
the bucket and the queues as they were (tests/fuzz_support.py holds the invariant).

Hypothesis sends bounded numbers of requests with generated methods, paths, headers and bodies
through http.client, and raw bytes through sockets for what HTTP clients refuse to send (oversize
headers, malformed request lines, raw non-ASCII, NUL bytes, very deep paths). The registry is a stack
of its own (`isolated_stack`), so no other test's compile jobs or webhook retries write to it meanwhile;
after every accepted change the test waits until the stack's queues are drained and its store is still.
"""
from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from localdev.stack import Stack
from tests.fuzz_support import Answer, Store, StoreSnapshot, check_answer, check_exchange, raw_request

# Examples per hypothesis test; each sends exactly one request (the module sends about 290 in all:
# these, 34 raw-socket cases, 4 on one kept-alive connection and 7 givens).
EXAMPLES = {"requests": 180, "raw_paths": 60}
MUTATIONS = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "fuzz-http-password-1"
GOOD = 'syntax = "proto3";\npackage base.v1;\nmessage Base { string id = 1; }\n'
NOT_PROTO = "this is not protobuf {{{"


def fuzz_settings(name: str) -> settings:
    return settings(max_examples=EXAMPLES[name], deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example, HealthCheck.filter_too_much])


@dataclass
class Remote:
    """The isolated stack seen from outside: its HTTP port, and its storage read with the test's clients."""
    host: str
    port: int
    store: Store
    sqs: Any
    queues: list[str]
    token: str = ""
    user_id: str = ""
    org_slug: str = ""
    org_id: str = ""
    hook_id: str = ""
    last: StoreSnapshot | None = None
    requests: int = field(default=0)

    def queued(self) -> int:
        total = 0
        for url in self.queues:
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"])["Attributes"]
            total += sum(int(v) for v in attributes.values())
        return total

    def settle(self, quiet_for: float = 1.0, seconds: float = 120) -> StoreSnapshot:
        """Wait until the queues are empty and the store has not changed for `quiet_for` seconds: the
        worker (queues, and the table stream's outbox relay, which polls every 0.25 s) is done."""
        deadline = time.monotonic() + seconds
        previous, quiet_since = self.store.snapshot(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            current = self.store.snapshot()
            if current != previous or self.queued():
                previous, quiet_since = current, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_for:
                return current
        raise AssertionError(f"the stack did not settle within {seconds}s")

    def exchange(self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"",
                 payload: bytes | None = None) -> tuple[Answer, dict | None]:
        """One request (through http.client, or `payload` as raw bytes), checked against the invariant."""
        before = self.last if self.last is not None else self.settle()
        if payload is not None:
            answer = raw_request(self.host, self.port, payload)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                connection.request(method, target, body=body or None, headers=headers or {})
                response = connection.getresponse()
                answer = Answer.of(response.status, dict(response.getheaders()), response.read())
            finally:
                connection.close()
        self.requests += 1
        if answer.status < 400 and method in MUTATIONS:
            after = self.settle()
        else:
            after = self.store.snapshot()
        self.last = after
        if currently_in_test_context():
            event(f"{method} {answer.status} {answer.code or ''}".strip())
        sent = (payload or b"") + body + repr(headers).encode()
        envelope = check_exchange(answer, method, target, sent, before, after)
        if 400 <= answer.status < 500:
            assert self.queued() == 0, f"{method} {target[:200]} was refused but queued work"
        return answer, envelope

    def json(self, method: str, target: str, value: Any, auth: bool = True, org: bool = False) -> dict:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        if org:
            headers["X-Organization-ID"] = self.org_slug
        answer, envelope = self.exchange(method, target, headers, json.dumps(value).encode())
        assert answer.status < 300, answer.describe()
        return envelope["data"] if envelope else {}


@pytest.fixture(scope="module")
def remote(isolated_stack: Stack) -> Iterator[Remote]:
    url = urlsplit(isolated_stack.api_url)
    env = isolated_stack.environment
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    clients = {name: session.client(name, endpoint_url=isolated_stack.aws_url) for name in ("dynamodb", "s3", "sqs")}
    store = Store(clients["dynamodb"], clients["s3"], env["SPOKE_TABLE_NAME"], env["SPOKE_BUCKET_NAME"])
    queues = [clients["sqs"].get_queue_url(QueueName=env[name])["QueueUrl"]
              for name in ("SPOKE_COMPILE_QUEUE_NAME", "SPOKE_EVENTS_QUEUE_NAME")]
    r = Remote(url.hostname, url.port, store, clients["sqs"], queues)
    # Givens: a user, module `base` with v1.0.0 (compiled by the stack's worker), an organization with a webhook
    email = "http-fuzzer@example.com"
    r.json("POST", "/auth/register", {"email": email, "password": PASSWORD}, auth=False)
    login = r.json("POST", "/auth/login", {"email": email, "password": PASSWORD}, auth=False)
    r.token, r.user_id = login["token"], login["user"]["id"]
    r.json("POST", "/modules", {"name": "base", "compatibility": {"mode": "NONE"}})
    r.json("POST", "/modules/base/versions", {"version": "v1.0.0", "files": {"base.proto": GOOD}})
    org = r.json("POST", "/organizations", {"name": "HTTP fuzz", "slug": "http-fuzz"})
    r.org_slug, r.org_id = org["slug"], org["id"]
    r.hook_id = r.json("POST", "/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["module.created"],
                                              "secret": "whsec-0123456789abcdef0123", "active": False}, org=True)["id"]
    yield r


# ------------------------------------------------------------------------------------------- strategies
# Every route with the methods it serves; "/{x}" and "/" are no route at all.
ROUTES = {
    "/modules": "GET POST", "/modules/{m}": "GET PATCH", "/modules/{m}/versions": "GET POST",
    "/modules/{m}/versions/{v}": "GET", "/modules/{m}/versions/{v}/files/{p}": "GET",
    "/modules/{m}/versions/{v}/download/{l}": "GET", "/modules/{m}/versions/{v}/compile": "POST",
    "/modules/{m}/versions/{v}/dependencies": "GET", "/modules/{m}/dependents": "GET",
    "/modules/{m}/collaborators": "GET POST", "/modules/{m}/collaborators/{u}": "DELETE",
    "/modules/{m}/compatibility/check": "POST", "/validate": "POST", "/auth/login": "POST", "/auth/register": "POST",
    "/auth/logout": "POST", "/organizations": "GET POST", "/organizations/{o}": "GET",
    "/organizations/{o}/members": "GET POST", "/organizations/{o}/members/{u}": "DELETE", "/webhooks": "GET POST",
    "/webhooks/{w}": "GET PATCH DELETE", "/webhooks/{w}/ping": "POST", "/webhooks/{w}/deliveries": "GET",
    "/webhooks/{w}/deliveries/{d}/redeliver": "POST", "/health": "GET", "/metrics": "GET", "/languages": "GET",
    "/{x}": "GET POST", "/{x}/{x}": "GET DELETE", "/": "GET",
}
SPECIAL_SEGMENTS = ["%00", "%2F", "%2f", "%2e%2e", "..", ".", "", "%", "%zz", "%C0%AE", "%FF", "%E2%80%AE", "-h",
                    "%5C", "a%00b.proto", "x" * 300, "%25", "~", "@", "*", "%3F", "%23"]
ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
fuzz_segment = st.one_of(st.sampled_from(SPECIAL_SEGMENTS), ascii_text.map(lambda s: quote(s, safe="")),
                         st.text(max_size=12).map(lambda s: quote(s, safe="")))


@st.composite
def targets(draw: st.DrawFn, remote: Remote) -> str:
    known = {"m": "base", "v": "v1.0.0", "p": "base.proto", "l": "go", "o": remote.org_slug, "u": remote.user_id,
             "w": remote.hook_id, "d": "dlv-0", "x": "nope"}
    path = draw(st.sampled_from(sorted(ROUTES)))
    for name, value in known.items():
        while "{" + name + "}" in path:
            if name == "p" and draw(st.booleans()):
                replacement = "/".join(draw(st.lists(fuzz_segment, min_size=1, max_size=40)))
            else:
                replacement = draw(st.one_of(st.just(value), fuzz_segment))
            path = path.replace("{" + name + "}", replacement, 1)
    if draw(st.integers(0, 3)) == 0:
        pairs = draw(st.lists(st.tuples(st.sampled_from(["page", "page_size", "cursor", "q", "org", "x"]),
                                        st.one_of(ascii_text, st.sampled_from(["9" * 5001, "-1", "101", "%00"]))),
                              max_size=3))
        path += "?" + "&".join(f"{k}={quote(v, safe='%')}" for k, v in pairs)
    return path


header_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=120)


@st.composite
def headers_for(draw: st.DrawFn, remote: Remote) -> dict[str, str]:
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["token", "token", "none", "junk", "basic"]))
    if auth == "token":
        headers["Authorization"] = f"Bearer {remote.token}"
    elif auth == "junk":
        headers["Authorization"] = "Bearer " + draw(header_value)
    elif auth == "basic":
        headers["Authorization"] = draw(header_value)
    org = draw(st.one_of(st.none(), st.just(remote.org_slug), st.just(remote.org_id), header_value))
    if org is not None:
        headers["X-Organization-ID"] = org
    request_id = draw(st.one_of(st.none(), header_value, st.just("trace-0123456789")))
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return headers


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3), max_leaves=6)
FIELDS = ["email", "password", "name", "slug", "description", "version", "version1", "version2", "files",
          "dependencies", "languages", "url", "events", "secret", "active", "role", "compatibility",
          "go_package_prefix"]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(["none", "json", "json", "files", "bytes", "multipart", "deep"]))
    if kind == "none":
        return b"", None
    if kind == "json":
        value = draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4))
        return json.dumps(value).encode(), draw(st.sampled_from(["application/json", "text/plain", None]))
    if kind == "files":  # never valid protobuf: a refused publish must leave nothing behind
        paths = draw(st.lists(st.one_of(st.just("a.proto"), st.text(max_size=30)), min_size=1, max_size=3))
        value = {"version": draw(st.sampled_from(["v2.0.0", "v1.0.0", "x"])), "files": {p: NOT_PROTO for p in paths}}
        return json.dumps(value).encode(), "application/json"
    if kind == "deep":
        return b"[" * draw(st.integers(1, 100_000)), "application/json"
    if kind == "multipart":
        boundary = draw(st.from_regex(r"[A-Za-z0-9]{1,30}", fullmatch=True))
        name = draw(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='"'),
                            max_size=30))
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="version"\r\n\r\nv2.0.0\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'
                f'{NOT_PROTO}\r\n--{boundary}--\r\n').encode()
        if draw(st.booleans()):
            body = body[: draw(st.integers(0, len(body)))]
        return body, f"multipart/form-data; boundary={boundary}"
    return draw(st.binary(max_size=200)), draw(st.sampled_from(["application/json", "multipart/form-data", None]))


def _matches(template: str, target: str) -> bool:
    wanted, got = template.split("/"), target.split("?", 1)[0].split("/")
    return len(wanted) == len(got) and all(w.startswith("{") or w == g for w, g in zip(wanted, got, strict=True))


# -------------------------------------------------------------------------------------------- the fuzzers
@fuzz_settings("requests")
@given(data=st.data())
def test_fuzz_http_requests(remote: Remote, data: st.DataObject) -> None:
    target = data.draw(targets(remote), label="target")
    template = next(t for t in ROUTES if _matches(t, target)) if any(_matches(t, target) for t in ROUTES) else "/"
    served = ROUTES[template].split()
    method = data.draw(st.one_of(st.sampled_from(served), st.sampled_from(served),
                                 st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"])), label="method")
    headers = data.draw(headers_for(remote), label="headers")
    body, content_type = data.draw(bodies(), label="body") if method != "GET" else (b"", None)
    if content_type:
        headers["Content-Type"] = content_type
    if target.startswith("/auth/logout") and headers.get("Authorization") == f"Bearer {remote.token}":
        headers["Authorization"] = "Bearer not-the-fuzzers-token"  # never revoke the token the fuzzer shares
    remote.exchange(method, target, headers, body)


raw_segment = st.one_of(
    st.sampled_from([b"%00", b"%2F", b"%2e%2e", b"..", b"\x00", b"\xff", b"\xc3\xa9", b"\xe2\x80\xae", b"\t", b"\\",
                     b"%", b"a" * 300, b"", b"?", b"#", b"\x7f"]),
    st.binary(max_size=8).filter(lambda b: not any(c in b for c in b" \r\n")),
)


@fuzz_settings("raw_paths")
@given(prefix=st.sampled_from([b"/", b"/modules/", b"/modules/base/versions/v1.0.0/files/", b"/webhooks/",
                               b"/organizations/", b"/modules/base/versions/"]),
       segments=st.one_of(st.lists(raw_segment, min_size=1, max_size=20),
                          st.integers(13, 400).map(lambda n: [b"d"] * n)),
       method=st.sampled_from([b"GET", b"POST", b"DELETE"]))
def test_fuzz_raw_paths(remote: Remote, prefix: bytes, segments: list[bytes], method: bytes) -> None:
    target = prefix + b"/".join(segments)
    payload = (method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
               + remote.token.encode() + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    remote.exchange(method.decode(), target.decode("latin-1"), payload=payload)


# ----------------------------------------------------------------------------- what only raw sockets send
def _request(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in (b"Host: 127.0.0.1", *headers, b"Connection: close")) \
        + b"\r\n" + body


AUTH = b"Authorization: Bearer {TOKEN}"  # the fuzzer's token, filled in when sent
RAW_CASES = {
    "a 70,000-byte header line": (_request(b"GET /health HTTP/1.1", b"X-Big: " + b"a" * 70_000), (431,)),
    "a 70,000-byte Authorization": (_request(b"GET /modules HTTP/1.1", b"Authorization: Bearer " + b"a" * 70_000),
                                    (431,)),
    "150 headers": (_request(b"GET /health HTTP/1.1", *(b"X-H%d: v" % i for i in range(150))), (431,)),
    "a 12,000-byte X-Organization-ID": (_request(b"GET /modules HTTP/1.1", AUTH,
                                                 b"X-Organization-ID: " + b"o" * 12_000), (400, 404)),
    "a 70,000-byte request line": (_request(b"GET /modules?q=" + b"q" * 70_000 + b" HTTP/1.1"), (414,)),
    "a 60,000-byte query": (_request(b"GET /modules?q=" + b"q" * 60_000 + b" HTTP/1.1"), (400,)),
    "HTTP/2.0 on an HTTP/1.1 socket": (_request(b"GET /health HTTP/2.0"), (400,)),
    "no version": (_request(b"POST /modules"), (400,)),
    "a garbage version": (_request(b"GET /health HTTP/x.y"), (400,)),
    "four words": (_request(b"GET /health extra HTTP/1.1"), (400,)),
    "an unknown method": (_request(b"BREW /health HTTP/1.1"), (405,)),
    "a lower-case method": (_request(b"get /health HTTP/1.1"), (405,)),
    "a NUL in the path": (_request(b"GET /modules/ba\x00se HTTP/1.1"), (400, 404)),
    "%00 in a module name": (_request(b"GET /modules/ba%00se HTTP/1.1"), (400, 404)),
    "%2F in a file path": (_request(b"GET /modules/base/versions/v1.0.0/files/a%2Fb.proto HTTP/1.1"), (400, 404)),
    "%2F%2E%2E in a version": (_request(b"GET /modules/base/versions/%2F%2E%2E%2F HTTP/1.1"), (400, 404)),
    "a 300-level path": (_request(b"GET /" + b"/".join([b"d"] * 300) + b" HTTP/1.1"), (404,)),
    "a 300-level file path": (_request(b"GET /modules/base/versions/v1.0.0/files/" + b"/".join([b"d"] * 300)
                                       + b".proto HTTP/1.1"), (404,)),
    "raw UTF-8 in the path": (_request("GET /modules/bäse HTTP/1.1".encode()), (400, 404)),
    "an invalid UTF-8 path": (_request(b"GET /modules/\xff\xfe HTTP/1.1"), (400, 404)),
    "a NUL in a header value": (_request(b"GET /modules HTTP/1.1", AUTH, b"X-Organization-ID: de\x00fault"),
                                (400, 404)),
    "a NUL in a bearer token": (_request(b"GET /organizations HTTP/1.1", b"Authorization: Bearer a\x00b"), (401,)),
    "a header without a colon": (_request(b"GET /health HTTP/1.1", b"NoColonHere"), (200, 400)),
    "an obs-fold header": (_request(b"GET /modules HTTP/1.1", b"X-Request-ID: abcdefgh", b" continued"), (200, 400)),
    "a non-numeric Content-Length": (_request(b"POST /auth/login HTTP/1.1", b"Content-Type: application/json",
                                              b"Content-Length: 12abc", body=b'{"email": 1}'), (400,)),
    "a chunked body": (_request(b"POST /auth/login HTTP/1.1", b"Content-Type: application/json",
                                b"Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n"), (411,)),
    "a 20 MB Content-Length": (_request(b"POST /modules HTTP/1.1", b"Content-Type: application/json",
                                        b"Content-Length: 20971520"), (413,)),
    "a body over the application's limit": (_request(b"POST /auth/register HTTP/1.1", b"Content-Type: application/json",
                                                     b"Content-Length: %d" % (5 * 1024 * 1024 + 14),
                                                     body=b'{"email": "' + b"a" * (5 * 1024 * 1024) + b'"}'), (413,)),
    "deep JSON over a socket": (_request(b"POST /auth/login HTTP/1.1", b"Content-Type: application/json",
                                         b"Content-Length: 100000", body=b"[" * 100_000), (400,)),
    "an absolute-form target": (_request(b"GET http://127.0.0.1/health HTTP/1.1"), (200, 400, 404)),
    "an asterisk target": (_request(b"OPTIONS * HTTP/1.1"), (400, 404)),
    "a bare-LF request": (b"GET /health HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n", (200,)),
    "a Latin-1 X-Request-ID": (_request(b"GET /languages HTTP/1.1", b"X-Request-ID: \xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9"),
                               (200,)),
    "a UTF-8 X-Request-ID": (_request(b"GET /languages HTTP/1.1", "X-Request-ID: ééééééééé".encode()), (200,)),
}


@pytest.mark.parametrize("name", list(RAW_CASES))
def test_raw_request(remote: Remote, name: str) -> None:
    payload, statuses = RAW_CASES[name]
    payload = payload.replace(b"{TOKEN}", remote.token.encode())
    line = payload.split(b"\n", 1)[0].rstrip(b"\r")
    words = line.split(b" ")
    method, target = words[0].decode("latin-1"), (words[1].decode("latin-1") if len(words) > 1 else "")
    answer, _ = remote.exchange(method, target, payload=payload)
    assert answer.status in statuses, f"{name}: expected {statuses}, got {answer.describe()}"


def test_a_keep_alive_connection_survives_refusals(remote: Remote) -> None:
    # Given one connection, When refused requests go first, Then the next one on it is still served
    connection = http.client.HTTPConnection(remote.host, remote.port, timeout=30)
    try:
        for target in ("/nope", "/modules/%00", "/modules/base/versions/x"):
            connection.request("GET", target)
            response = connection.getresponse()
            answer = Answer.of(response.status, dict(response.getheaders()), response.read())
            check_answer(answer, "GET", target)
            assert 400 <= answer.status < 500, answer.describe()
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()

