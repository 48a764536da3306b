"""Hostile input, in process: whatever a client sends, the answer is the envelope (or a documented raw
success) with a 4xx or a success, never a 5xx, and a refused request leaves the table and the bucket
exactly as they were (tests/fuzz_support.py holds the invariant).

Hypothesis drives upload paths, multipart bodies, JSON shapes and texts, versions, headers, query and
path parameters and webhook URLs through chalice.test.Client against moto; one sweep sends every
wrong type to every field of every JSON endpoint; a table pins every case of issue 8 and its variants.
Each fuzzer gets a fresh registry that its examples share: the invariant compares each request's
before and after, so what earlier examples stored does not matter, and a small table keeps Scans quick.
"""
from __future__ import annotations

import contextlib
import ipaddress
import itertools
import json
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import boto3
import pytest
from chalice.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from moto import mock_aws

from chalicelib import wiring
from chalicelib.adapters import aws
from infra.provision import provision
from tests.fuzz_support import Answer, Store, StoreSnapshot, check_exchange
from tests.integration.api import multipart
from tests.plans import GENEROUS_PLANS

# Examples per hypothesis test (the report and the README quote these).
EXAMPLES = {"paths": 120, "multipart": 80, "json_shapes": 120, "json_text": 60, "versions": 100, "headers": 100,
            "query": 100, "path_parameters": 80, "webhook_urls": 100, "webhook_blocks": 3}


def fuzz_settings(name: str) -> settings:
    return settings(max_examples=EXAMPLES[name], deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])


def proto(i: int) -> str:
    return f'syntax = "proto3";\npackage fuzz.p{i};\nmessage M{i} {{ string id = 1; }}\n'


GOOD = proto(0)
PASSWORD = "fuzz-password-123"
SECRET = "whsec-0123456789abcdef0123"
PUBLIC_ADDRESS = "93.184.216.34"
# Names the fake resolver knows; every other name fails to resolve, numeric forms resolve as libc does.
DNS = {"hooks.example.com": [PUBLIC_ADDRESS], "public.fuzz.test": ["93.184.216.35"],
       "private.fuzz.test": ["10.0.0.7"], "metadata.fuzz.test": ["169.254.169.254"],
       "sitelocal.fuzz.test": ["fec0::1"], "mapped.fuzz.test": ["::ffff:127.0.0.1"],
       "loopback.fuzz.test": ["127.0.0.1"], "mixed.fuzz.test": [PUBLIC_ADDRESS, "192.168.1.1"]}


def _refuse_scan(**_: object) -> None:
    raise AssertionError("a request path issued a DynamoDB Scan")


@dataclass
class World:
    """One registry, the test's own view of its storage, and the givens every fuzzer needs."""
    client: Client
    store: Store
    token: str = ""
    other_email: str = ""
    org_slug: str = ""
    org_id: str = ""
    hook_id: str = ""
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    last: StoreSnapshot | None = None

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def send(self, method: str, path: str, body: bytes | str = b"", headers: dict[str, str] | None = None,
             token: str | None = None, org: str | None = None) -> tuple[Answer, dict | None]:
        """One request, checked against the whole invariant (answer shape; nothing stored if refused)."""
        sent = dict(headers or {})
        if token:
            sent.setdefault("Authorization", f"Bearer {token}")
        if org:
            sent.setdefault("X-Organization-ID", org)
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        before = self.last if self.last is not None else self.store.snapshot()
        response = self.client.http.request(method, path, headers=sent, body=raw)
        answer = Answer.of(response.status_code, response.headers, response.body)
        self.last = after = self.store.snapshot()
        if currently_in_test_context():
            event(f"{method} {answer.status} {answer.code or ''}".strip())
        return answer, check_exchange(answer, method, path, raw + repr(sent).encode(), before, after)

    def post_json(self, path: str, value: Any, **kw: Any) -> tuple[Answer, dict | None]:
        return self.send("POST", path, json.dumps(value), {"Content-Type": "application/json"}, **kw)

    def must(self, reply: tuple[Answer, dict | None], status: int) -> dict:
        answer, envelope = reply
        assert answer.status == status, answer.describe()
        return envelope["data"] if envelope else {}


def fake_getaddrinfo(real: Callable[..., Any]) -> Callable[..., Any]:
    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> list:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in DNS:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
                    for a in DNS[name]]
        return real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)  # never the network
    return getaddrinfo


@contextlib.contextmanager
def registry(contents: bool) -> Iterator[World]:
    """A fresh registry on moto with the givens below; the test's store view compares item contents or keys."""
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.setattr(socket, "getaddrinfo", fake_getaddrinfo(socket.getaddrinfo))
        aws.reset_clients()
        wiring.reset()
        env = provision("fuzz", boto3.session.Session(region_name="us-east-1"))
        for key, value in {**env, "SPOKE_JWT_SECRET": secrets.token_urlsafe(48), "SPOKE_STAGE": "test",
                           "SPOKE_PASSWORD_HASH_TIME_COST": "1", "SPOKE_PASSWORD_HASH_MEMORY_KIB": "8192",
                           "SPOKE_PLANS": GENEROUS_PLANS}.items():
            mp.setenv(key, value)
        aws.session().events.register("before-call.dynamodb.Scan", _refuse_scan)
        # The test's own clients: a separate session, so Scan is allowed here and only here.
        own = boto3.session.Session(region_name="us-east-1")
        store = Store(own.client("dynamodb"), own.client("s3"), env["SPOKE_TABLE_NAME"], env["SPOKE_BUCKET_NAME"],
                      contents=contents)
        from app import app

        try:
            with Client(app) as client:
                w = World(client, store)
                _given(w)
                yield w
        finally:
            aws.reset_clients()
            wiring.reset()


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh registry per fuzzer, shared by its examples (so each table stays small and each Scan quick)."""
    with registry(contents=False) as w:
        yield w


def _given(w: World) -> None:
    """A signed-in user; module `base` with v1.0.0; modules with policy NONE for the publish fuzzers; an
    organization the user owns, with a webhook; a second registered user to add as a member."""
    email, w.other_email = "fuzzer@example.com", "other@example.com"
    for address in (email, w.other_email):
        w.must(w.post_json("/auth/register", {"email": address, "password": PASSWORD}), 201)
    w.token = w.must(w.post_json("/auth/login", {"email": email, "password": PASSWORD}), 200)["token"]
    for name in ("base", "fz-paths", "fz-multipart", "fz-versions", "fz-shapes"):
        w.must(w.post_json("/modules", {"name": name, "compatibility": {"mode": "NONE"}}, token=w.token), 201)
    w.must(w.post_json("/modules/base/versions", {"version": "v1.0.0", "files": {"base.proto": GOOD}},
                       token=w.token), 201)
    org = w.must(w.post_json("/organizations", {"name": "Fuzz", "slug": "fuzz-org"}, token=w.token), 201)
    w.org_slug, w.org_id = org["slug"], org["id"]
    hook = w.must(w.post_json("/webhooks", {"url": "https://hooks.example.com/x", "events": ["*"], "secret": SECRET},
                              token=w.token, org=w.org_slug), 201)
    w.hook_id = hook["id"]


def file_url(module: str, version: str, path: str) -> str:
    return f"/modules/{module}/versions/{quote(version, safe='')}/files/" + "/".join(
        quote(segment, safe="") for segment in path.split("/"))


def served_as_published(w: World, module: str, version: str, files: dict[str, str], stored: list) -> None:
    """Whatever publish accepts, the file route serves, byte for byte (any depth publish allows)."""
    for path in stored:
        answer, _ = w.send("GET", file_url(module, version, path))
        assert answer.status == 200, f"published {path!r} but GET answers {answer.describe()}"
        assert answer.body == files[path].encode(), path


# ------------------------------------------------------------------------------------------- strategies
SEGMENTS = [".", "..", "", "-I", "-h", "--help", "-Ijunk", "--descriptor_set_out=x", "@args", "~", "CON", "a\\b",
            "a\x00b", "A", "a", "é", "🙂", " ", "a b", "x" * 129, "x" * 300, "google", "protobuf", "_", "-",
            ".hidden", "%2F", "a:b", "C:", "*", "?", '"', "\n", "\u202e", "a/b"]
segment = st.one_of(st.sampled_from(SEGMENTS), st.text(max_size=12),
                    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True))


@st.composite
def upload_paths(draw: st.DrawFn) -> list[str]:
    def one() -> str:
        prefix = draw(st.sampled_from(["", "", "", "", "/", "-", "@", "./", "../", "google/protobuf/"]))
        suffix = draw(st.sampled_from([".proto", ".proto", ".proto", "", ".txt", ".PROTO", "/"]))
        return prefix + "/".join(draw(st.lists(segment, min_size=1, max_size=14))) + suffix

    paths = [one() for _ in range(draw(st.integers(1, 3)))]
    twist = draw(st.sampled_from(["none", "none", "case", "file-and-dir", "dir-and-file", "same"]))
    if twist == "case":
        paths.append(paths[0].swapcase())
    elif twist == "file-and-dir":
        paths.append(paths[0] + "/y.proto")
    elif twist == "dir-and-file":
        paths.insert(0, paths[0] + "/y.proto")
    elif twist == "same":
        paths.append(paths[0])
    return paths


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**40), 10**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)


# -------------------------------------------------------------------------------------------- 1. paths
@fuzz_settings("paths")
@given(paths=upload_paths(), transport=st.sampled_from(["json", "multipart", "validate"]))
def test_fuzz_upload_paths(world: World, paths: list[str], transport: str) -> None:
    version = world.unique("v1.0.")
    files = {path: proto(i) for i, path in enumerate(paths)}  # a repeated path keeps its last text
    target = "/validate" if transport == "validate" else "/modules/fz-paths/versions"
    before = world.last
    if transport == "multipart":
        body, content_type = multipart({"version": version}, [(f"file{i}", p, proto(i).encode())
                                                              for i, p in enumerate(paths)])
        answer, envelope = world.send("POST", target, body, {"Content-Type": content_type}, token=world.token)
    else:
        answer, envelope = world.post_json(target, {"version": version, "files": files}, token=world.token)
    if transport == "validate":
        assert answer.status in (200, 400), answer.describe()
        assert world.last == before, "/validate stored something"
    elif answer.status == 201:
        stored = envelope["data"]["files"]
        assert len(set(p.casefold() for p in stored)) == len(stored), f"case-colliding paths stored: {stored}"
        for path in stored:
            assert not any(s.startswith(("-", "@")) for s in path.split("/")), f"option-like path stored: {path!r}"
            assert not path.lower().startswith("google/protobuf/"), f"a well-known type shadowed: {path!r}"
        if transport == "json":
            served_as_published(world, "fz-paths", version, files, stored)


# ---------------------------------------------------------------------------------------- 2. multipart
boundary_text = st.one_of(st.from_regex(r"[A-Za-z0-9'()+_,./:=?-]{1,70}", fullmatch=True), st.text(max_size=80))


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    boundary = draw(boundary_text)
    newline = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    parts = []
    for i in range(draw(st.integers(0, 4))):
        name = draw(st.one_of(st.sampled_from(["version", "description", "file", f"file{i}", "dependency", ""]),
                              st.text(max_size=10)))
        filename = draw(st.one_of(st.none(), st.just(""), st.just(f"f{i}.proto"), st.text(max_size=20)))
        content = draw(st.one_of(st.just(proto(i).encode()), st.binary(max_size=64), st.just(b"")))
        disposition = f'form-data; name="{name}"' + ("" if filename is None else f'; filename="{filename}"')
        headers = [] if draw(st.booleans()) and i else [f"Content-Disposition: {disposition}"]
        if draw(st.booleans()):
            headers.append("Content-Type: application/octet-stream")
        parts.append(b"--" + boundary.encode() + newline + newline.join(h.encode() for h in headers) + newline
                     + newline + content + newline)
    version = draw(st.sampled_from(["v2.0.{n}", "", "garbage"]))
    if version:
        parts.insert(0, b"--" + boundary.encode() + newline + b'Content-Disposition: form-data; name="version"'
                     + newline + newline + version.encode() + newline)
    if draw(st.booleans()):
        parts.append(b"--" + boundary.encode() + b"--" + newline)
    body = b"".join(parts)
    cut = draw(st.sampled_from(["whole", "whole", "truncated", "garbage"]))
    if cut == "truncated" and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif cut == "garbage":
        body += draw(st.binary(max_size=40))
    header_boundary = draw(st.sampled_from(["same", "same", "quoted", "other", "missing"]))
    content_type = {"same": f"multipart/form-data; boundary={boundary}",
                    "quoted": f'multipart/form-data; boundary="{boundary}"',
                    "other": "multipart/form-data; boundary=somethingElse",
                    "missing": "multipart/form-data"}[header_boundary]
    return body, content_type


@fuzz_settings("multipart")
@given(upload=multipart_bodies(), validate=st.booleans())
def test_fuzz_multipart_bodies(world: World, upload: tuple[bytes, str], validate: bool) -> None:
    body, content_type = upload
    body = body.replace(b"{n}", str(next(world.counter)).encode())
    target = "/validate" if validate else "/modules/fz-multipart/versions"
    before = world.last
    answer, _ = world.send("POST", target, body, {"Content-Type": content_type}, token=world.token)
    assert not validate or world.last == before, "/validate stored something"
    assert answer.status in ((200, 400, 413) if validate else (201, 400, 409, 413)), answer.describe()


# -------------------------------------------------------------------------------------- 3. JSON shapes
def endpoints(w: World) -> list[tuple[str, str, Callable[[], dict], dict[str, str]]]:
    """(method, path, a valid body, headers) for every endpoint that reads a JSON body."""
    auth = {"Authorization": f"Bearer {w.token}"}
    owner = {**auth, "X-Organization-ID": w.org_slug}
    return [
        ("POST", "/auth/register", lambda: {"email": f"{w.unique('u')}@example.com", "password": PASSWORD,
                                            "first_name": "A", "last_name": "B"}, {}),
        ("POST", "/auth/login", lambda: {"email": "fuzzer@example.com", "password": PASSWORD}, {}),
        ("POST", "/organizations", lambda: {"name": "Org", "slug": w.unique("org-x-").replace("org-", "o")}, auth),
        ("POST", f"/organizations/{w.org_id}/members", lambda: {"email": w.other_email, "role": "viewer"}, auth),
        ("POST", "/modules", lambda: {"name": w.unique("shape-"), "description": "d",
                                      "compatibility": {"mode": "BACKWARD", "use": ["FILE"], "except": [],
                                                        "allow_breaking_major": True},
                                      "go_package_prefix": "github.com/acme/protos"}, auth),
        ("PATCH", "/modules/fz-shapes", lambda: {"description": "d", "compatibility": {"mode": "NONE"},
                                                 "go_package_prefix": "github.com/acme/x"}, auth),
        ("POST", "/modules/fz-shapes/versions", lambda: {"version": w.unique("v3.0."), "description": "d",
                                                         "files": {"a.proto": GOOD}, "dependencies": []}, auth),
        ("POST", "/validate", lambda: {"files": {"a.proto": GOOD}, "dependencies": ["base@v1.0.0"]}, auth),
        ("POST", "/modules/base/compatibility/check", lambda: {"version1": "v1.0.0", "version2": "v1.0.0",
                                                               "use": ["FILE"], "except": []}, auth),
        ("POST", "/modules/base/versions/v1.0.0/compile", lambda: {"languages": ["go", "python"]}, auth),
        ("POST", "/webhooks", lambda: {"url": "https://hooks.example.com/y", "events": ["version.published"],
                                       "secret": SECRET, "active": True}, owner),
        ("PATCH", f"/webhooks/{w.hook_id}", lambda: {"url": "https://hooks.example.com/z", "events": ["*"],
                                                     "active": True, "secret": "whsec-abcdef0123456789abcd"}, owner),
    ]


@fuzz_settings("json_shapes")
@given(data=st.data())
def test_fuzz_json_shapes(world: World, data: st.DataObject) -> None:
    method, path, valid, headers = data.draw(st.sampled_from(endpoints(world)), label="endpoint")
    body: Any = valid()
    if data.draw(st.integers(0, 9), label="whole") == 0:
        body = data.draw(json_values.filter(lambda v: not isinstance(v, dict)), label="not an object")
    else:
        fields = sorted(body)
        for name in data.draw(st.sets(st.sampled_from(fields)), label="dropped"):
            body.pop(name, None)
        body.update(data.draw(st.dictionaries(st.sampled_from(fields + ["unknown", ""]), json_values, max_size=3),
                              label="replaced"))
        for name, value in list(body.items()):  # one level down, too: every field of a nested object
            if isinstance(value, dict) and value and data.draw(st.booleans(), label=f"nested {name}"):
                value.update(data.draw(st.dictionaries(st.sampled_from(sorted(value)), json_values, max_size=2)))
    answer, envelope = world.send(method, path, json.dumps(body), {"Content-Type": "application/json", **headers})
    if path == "/webhooks" and answer.status == 201:  # stay under the per-organization limit
        world.send("DELETE", f"/webhooks/{envelope['data']['id']}", headers=headers)


WRONG_VALUES: list[Any] = [None, True, -1, 1.5, 10**40, "", "x" * 10_000, "\u0000<script>", ["a", 1], {"": None}]


def _field_paths(value: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field of a body, nested objects' fields included (one level of `files` is a path, kept)."""
    paths = []
    for name, child in value.items():
        paths.append((*prefix, name))
        if isinstance(child, dict) and name != "files":
            paths += _field_paths(child, (*prefix, name))
    return paths


def _with(body: dict, path: tuple[str, ...], value: Any) -> dict:
    copy = json.loads(json.dumps(body))
    target = copy
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    return copy


def test_every_field_of_every_endpoint_takes_every_wrong_type(world: World) -> None:
    # Exhaustive, not sampled: each field (nested ones too) of each JSON endpoint, with each value in turn
    for method, path, valid, headers in endpoints(world):
        for field_path in _field_paths(valid()):
            for value in WRONG_VALUES:
                body = _with(valid(), field_path, value)
                answer, envelope = world.send(method, path, json.dumps(body),
                                              {"Content-Type": "application/json", **headers})
                if path == "/webhooks" and answer.status == 201:
                    world.send("DELETE", f"/webhooks/{envelope['data']['id']}", headers=headers)


# ---------------------------------------------------------------------------------------- 4. JSON text
json_texts = st.one_of(
    st.integers(1, 100_000).map(lambda n: "[" * n),
    st.integers(1, 50_000).map(lambda n: '{"a": ' * n),
    st.integers(20, 30_000).map(lambda n: "[" * n + "]" * n),
    st.integers(30, 6_000).map(lambda n: '{"name": ' + "9" * n + "}"),
    st.integers(30, 6_000).map(lambda n: '{"name": -' + "1" * n + ".5e1}"),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "0.1e400"]).map(
        lambda x: f'{{"name": {x}, "email": {x}, "version": {x}}}'),
    st.integers(0, 5_000_000).map(lambda n: json.dumps({"name": "a" * n, "email": "b", "files": {"a.proto": "c"}})),
    st.sampled_from(['{"name": "\\ud800"}', '{"\\udfff": 1}', '\ufeff{}', '{"name": "a", "name": 1}', "{} []",
                     '{"files": {"a.proto": "\\u0000"}}', "", " ", "null", '"text"', "{'a': 1}", "{,}"]),
    st.text(max_size=60),
)


@fuzz_settings("json_text")
@given(data=st.data(), text=json_texts, raw=st.one_of(st.none(), st.binary(max_size=60)))
def test_fuzz_json_text(world: World, data: st.DataObject, text: str, raw: bytes | None) -> None:
    method, path, _, headers = data.draw(st.sampled_from(endpoints(world)), label="endpoint")
    body = raw if raw is not None and data.draw(st.booleans(), label="bytes") else text
    answer, envelope = world.send(method, path, body, {"Content-Type": "application/json", **headers})
    if envelope and answer.status >= 400:
        message = envelope["error"]["message"].lower()
        assert "int_max_str_digits" not in message and "integer string conversion" not in message, message


# ------------------------------------------------------------------------------------------ 5. versions
small = st.integers(0, 30).map(str)
number = st.one_of(small, small, small, st.integers(0, 10**12).map(str), st.just("01"),
                   st.text(alphabet="0123456789", min_size=1, max_size=40))
identifiers = st.lists(st.from_regex(r"[0-9A-Za-z-]{1,20}", fullmatch=True), min_size=1, max_size=5).map(".".join)
# Lengths around every bound that matters: the version's own maximum, DynamoDB's 1 KB sort key, SQS's 256 KiB.
lengths = st.one_of(st.sampled_from([1, 100, 120, 121, 122, 128, 129, 1000, 1024, 1100, 2048, 262_144, 300_000]),
                    st.integers(1, 300_000))
versions = st.one_of(
    st.builds(lambda v, a, b, c, pre, build: f"{v}{a}.{b}.{c}{pre}{build}",
              st.sampled_from(["v"] * 6 + ["", "", "V", "vv", " ", "-"]), number, number, number,
              st.one_of(st.just(""), identifiers.map("-".__add__), lengths.map(lambda n: "-" + "a" * n)),
              st.one_of(st.just(""), identifiers.map("+".__add__), lengths.map(lambda n: "+" + "b" * n))),
    st.text(max_size=40),
)


@fuzz_settings("versions")
@given(version=versions, use=st.sampled_from(["publish", "get", "dependencies", "check", "compile", "file"]))
def test_fuzz_versions(world: World, version: str, use: str) -> None:
    segment = quote(version, safe="")
    if use == "publish":
        world.post_json("/modules/fz-versions/versions", {"version": version, "files": {"v.proto": GOOD}},
                        token=world.token)
    elif use == "get":
        world.send("GET", f"/modules/base/versions/{segment}")
    elif use == "dependencies":
        world.send("GET", f"/modules/base/versions/{segment}/dependencies")
    elif use == "check":
        world.post_json("/modules/base/compatibility/check", {"version1": version, "version2": "v1.0.0"},
                        token=world.token)
    elif use == "compile":
        world.post_json(f"/modules/base/versions/{segment}/compile", {"languages": ["go"]}, token=world.token)
    else:
        world.send("GET", f"/modules/base/versions/{segment}/files/base.proto")


# ------------------------------------------------------------------------------------------- 6. headers
header_text = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)),
                      max_size=150)


@fuzz_settings("headers")
@given(data=st.data())
def test_fuzz_headers(world: World, data: st.DataObject) -> None:
    token = world.token
    headers: dict[str, str] = {}
    org = data.draw(st.one_of(st.none(), header_text, st.sampled_from(
        ["default", "DEFAULT", " default ", world.org_slug, world.org_id, world.org_id.upper(), "org-",
         "org-" + "0" * 12, "fuzz-org ", "x" * 5000])), label="org")
    if org is not None:
        headers["X-Organization-ID"] = org
    auth = data.draw(st.one_of(st.none(), header_text, header_text.map("Bearer ".__add__), st.sampled_from(
        [f"Bearer {token}", f"bearer  {token}", f"Bearer {token}x", f"Bearer {token[:-2]}", "Bearer", "Bearer ",
         f"Basic {token}", token, f"Bearer {token} {token}", "Bearer " + "a" * 100_000,
         "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])), label="authorization")
    if auth is not None:
        headers["Authorization"] = auth
    request_id = data.draw(st.one_of(st.none(), header_text, st.sampled_from(
        ["trace-0123456789", "a" * 129, "éééééééé", "١٢٣٤٥٦٧٨٩", "trace 0123456789"])), label="request id")
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    method, path, body = data.draw(st.sampled_from([
        ("GET", "/modules", None), ("GET", "/modules/base", None), ("GET", "/organizations", None),
        ("GET", "/webhooks", None), ("GET", "/modules/base/versions/v1.0.0/files/base.proto", None),
        ("POST", "/modules", {"name": "hdr-{n}"}), ("POST", "/validate", {"files": {"a.proto": GOOD}}),
        ("GET", f"/organizations/{world.org_id}/members", None), ("POST", "/auth/logout", None),
    ]), label="endpoint")
    if path == "/auth/logout" and auth and token in auth:
        headers["Authorization"] = "Bearer not-the-fuzzers-token"  # never revoke the token the fuzzers share
    raw = json.dumps(body).replace("{n}", str(next(world.counter))) if body is not None else ""
    if raw:
        headers["Content-Type"] = "application/json"
    answer, _ = world.send(method, path, raw, headers)
    if request_id is not None and 8 <= len(request_id) <= 128 and all(
            c.isascii() and (c.isalnum() or c in "-_.") for c in request_id):
        assert answer.headers.get("x-request-id") == request_id, "a sane X-Request-ID is kept"


# ------------------------------------------------------------------------------------ 7. query parameters
query_text = st.one_of(st.text(max_size=60), st.sampled_from(
    ["0", "-1", "1", "100", "101", "1e3", "0x10", "9" * 5001, "", " ", "%", "%zz", "&", "=", "a" * 100_000, "null",
     "AAAAbm90LWEtY3Vyc29y", "default", "fuzz-org"]))


@fuzz_settings("query")
@given(data=st.data())
def test_fuzz_query_parameters(world: World, data: st.DataObject) -> None:
    path, headers = data.draw(st.sampled_from([
        ("/modules", {}), ("/modules/base/versions", {}), ("/modules/base/dependents", {}), ("/organizations", {}),
        (f"/webhooks/{world.hook_id}/deliveries", {"X-Organization-ID": world.org_slug}),
        ("/modules", {"X-Organization-ID": world.org_slug}), ("/webhooks", {"X-Organization-ID": world.org_slug}),
    ]), label="endpoint")
    params = data.draw(st.lists(st.tuples(st.sampled_from(["page", "page_size", "cursor", "q", "org", "x"]),
                                          query_text), max_size=4), label="params")
    if data.draw(st.booleans(), label="raw"):
        query = "&".join(f"{k}={v}" for k, v in params).replace("#", "%23")  # as typed, unencoded
        query = query.replace(" ", "%20")
    else:
        query = urlencode(params)
    world.send("GET", f"{path}?{query}" if query else path,
               headers={"Authorization": f"Bearer {world.token}", **headers})


# ------------------------------------------------------------------------------- 7b. path parameters
ROUTES = [("GET", "/modules/{}"), ("PATCH", "/modules/{}"), ("GET", "/modules/{}/versions"),
          ("GET", "/modules/base/versions/{}"), ("GET", "/modules/{}/versions/v1.0.0"),
          ("GET", "/modules/base/versions/v1.0.0/files/{}"), ("GET", "/modules/base/versions/v1.0.0/download/{}"),
          ("GET", "/modules/base/versions/{}/download/go"), ("POST", "/modules/{}/compatibility/check"),
          ("GET", "/modules/{}/dependents"), ("GET", "/organizations/{}"), ("GET", "/organizations/{}/members"),
          ("DELETE", "/organizations/{org}/members/{}"), ("GET", "/webhooks/{}"), ("DELETE", "/webhooks/{}"),
          ("POST", "/webhooks/{}/ping"), ("GET", "/webhooks/{}/deliveries"),
          ("POST", "/webhooks/{hook}/deliveries/{}/redeliver"), ("POST", "/modules/{}/versions/v1.0.0/compile"),
          ("GET", "/modules/{}/collaborators"), ("POST", "/modules/{}/collaborators"),
          ("DELETE", "/modules/base/collaborators/{}")]
path_value = st.one_of(st.text(max_size=40), st.sampled_from(
    ["..", ".", "-h", "%00", "base", "BASE", "default", "org-", "user-", "whk-", "x" * 1000, "v1.0.0", "🙂", "a b"]))


@fuzz_settings("path_parameters")
@given(route=st.sampled_from(ROUTES), value=path_value)
def test_fuzz_path_parameters(world: World, route: tuple[str, str], value: str) -> None:
    method, template = route
    segment = quote(value, safe="") or "%20"
    path = template.replace("{org}", world.org_id).replace("{hook}", world.hook_id).replace("{}", segment)
    headers = {"Authorization": f"Bearer {world.token}"}
    if "/webhooks" in path:
        headers["X-Organization-ID"] = world.org_slug
    body = json.dumps({"version1": "v1.0.0", "version2": "v1.0.0"}) if method == "POST" else ""
    if body:
        headers["Content-Type"] = "application/json"
    world.send(method, path, body, headers)


# ------------------------------------------------------------------------------------------ 8. webhooks
SPECIAL_HOSTS = ["[fec0::1]", "[fec0::1]:443", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[64:ff9b::a9fe:a9fe]",
                 "[2002:a9fe:a9fe::1]", "[2001::1]", "[fe80::1]", "[fe80::1%25eth0]", "[fd00::1]", "[2001:db8::1]",
                 "[ff02::1]", "[::]", "169.254.169.254", "127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1",
                 "0.0.0.0", "10.1.2.3", "100.64.0.1", "172.16.0.1", "192.0.0.1", "192.0.2.1", "192.168.0.1",
                 "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "localhost", "metadata.google.internal",
                 *DNS]
# Special-purpose blocks (IANA registries, RFC 6890 and successors) and a few public ones for contrast.
NETWORKS = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
            "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96",
            "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10",
            "fec0::/10", "ff00::/8", "8.8.8.0/24", "93.184.216.0/24", "2606:4700::/32"]
PUBLIC_NETWORKS = ("8.8.8.0/24", "93.184.216.0/24", "2606:4700::/32")
ip_hosts = st.sampled_from(NETWORKS).flatmap(lambda net: st.ip_addresses(network=net)).map(
    lambda ip: f"[{ip}]" if ip.version == 6 else str(ip))


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Where a webhook with this host would connect, by the same (fake) resolver the application uses."""
    try:
        infos = socket.getaddrinfo(host, 443)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _routable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast, judging IPv6 that carries IPv4 (mapped, NAT64, 6to4, Teredo) by that IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ()),
                   ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None]
        if any(c is not None and not _routable(c) for c in carried):
            return False
    return ip.is_global and not ip.is_multicast


webhook_urls = st.one_of(
    st.text(max_size=80),
    st.builds(lambda scheme, host, tail: f"{scheme}{host}{tail}",
              st.sampled_from(["https://"] * 6 + ["http://"] * 3 + ["ftp://", "file://", "gopher://", "https:/", "//",
                                                                    "HTTPS://", "https://user:pass@"]),
              st.one_of(ip_hosts, ip_hosts, ip_hosts, st.sampled_from(SPECIAL_HOSTS), st.text(max_size=20)),
              st.sampled_from(["", "/", "/hook", "/hook", ":0/x", ":65536/x", ":8443/x", "/a?b=c#d",
                               "/" + "p" * 3000])),
)


@fuzz_settings("webhook_urls")
@given(url=webhook_urls, create=st.booleans())
def test_fuzz_webhook_urls(world: World, url: str, create: bool) -> None:
    owner = {"Authorization": f"Bearer {world.token}", "X-Organization-ID": world.org_slug,
             "Content-Type": "application/json"}
    if create:
        answer, envelope = world.send("POST", "/webhooks", json.dumps(
            {"url": url, "events": ["*"], "secret": SECRET}), owner)
    else:
        answer, envelope = world.send("PATCH", f"/webhooks/{world.hook_id}", json.dumps({"url": url}), owner)
    if answer.status in (200, 201):
        host = urlsplit(url).hostname or ""
        addresses = _addresses(host)
        assert addresses and all(_routable(ip) for ip in addresses), \
            f"accepted {url!r}, which reaches {addresses} (not every address is globally routable)"
    if create and answer.status == 201:
        world.send("DELETE", f"/webhooks/{envelope['data']['id']}", headers=owner)
    if not create and answer.status == 200:  # put the shared webhook back
        world.send("PATCH", f"/webhooks/{world.hook_id}", json.dumps({"url": "https://hooks.example.com/x"}), owner)


@fuzz_settings("webhook_blocks")
@given(data=st.data())
def test_fuzz_webhook_addresses_in_every_special_block(world: World, data: st.DataObject) -> None:
    # every example tries one address of every block, so no block is left to chance
    owner = {"Authorization": f"Bearer {world.token}", "X-Organization-ID": world.org_slug,
             "Content-Type": "application/json"}
    for network in NETWORKS:
        ip = data.draw(st.ip_addresses(network=network), label=network)
        url = f"https://{f'[{ip}]' if ip.version == 6 else ip}/hook"
        answer, envelope = world.send("POST", "/webhooks", json.dumps(
            {"url": url, "events": ["*"], "secret": SECRET}), owner)
        if answer.status == 201:
            world.send("DELETE", f"/webhooks/{envelope['data']['id']}", headers=owner)
            assert _routable(ip), f"accepted {url}, which is not globally routable"
        elif network in PUBLIC_NETWORKS:  # the filter refuses special addresses, not the Internet
            pytest.fail(f"refused the public address {url}: {answer.describe()}")


# ----------------------------------------------------------------------------------- 9. the issue's cases
@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: Any = None  # a dict/list (sent as JSON), str/bytes (sent as is), or a multipart (bytes, content type)
    auth: str = "user"  # "user", "owner" (X-Organization-ID of the user's organization) or "none"
    status: tuple[int, ...] = (400,)
    codes: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()  # text the error message must not contain


def _json_version(files: dict[str, str], version: str = "v9.0.{n}") -> dict:
    return {"version": version, "files": files}


def _multipart_version(*files: tuple[str, str]) -> tuple[bytes, str]:
    return multipart({"version": "v9.1.{n}"}, [(f"file{i}", p, c.encode()) for i, (p, c) in enumerate(files)])


INJECTION = {"good.proto": GOOD, "-Ijunk.proto": "this is not protobuf {{{"}
DEEP = "[" * 100_000
INT_5001 = "9" * 5001
PYTHON_INT_TEXT = ("int_max_str_digits", "integer string conversion", "exceeds the limit", "4300")
PUBLISH = "/modules/fz-paths/versions"

CASES: dict[str, Case] = {
    # 1. protoc argument injection
    "option-like path, JSON": Case("POST", PUBLISH, _json_version(INJECTION), codes=("INVALID_PATH",)),
    "option-like path, multipart": Case("POST", PUBLISH, _multipart_version(*INJECTION.items()),
                                        codes=("INVALID_PATH",)),
    "option-like path, /validate": Case("POST", "/validate", {"files": INJECTION}, codes=("INVALID_PATH",)),
    "-h.proto": Case("POST", PUBLISH, _json_version({"-h.proto": GOOD}), codes=("INVALID_PATH",)),
    "-h.proto on /validate": Case("POST", "/validate", {"files": {"-h.proto": GOOD}}, codes=("INVALID_PATH",)),
    "--help.proto": Case("POST", PUBLISH, _json_version({"--help.proto": GOOD}), codes=("INVALID_PATH",)),
    "option-like directory": Case("POST", PUBLISH, _json_version({"a/-Ix/b.proto": GOOD}), codes=("INVALID_PATH",)),
    "@argsfile.proto": Case("POST", PUBLISH, _json_version({"@args.proto": GOOD}), codes=("INVALID_PATH",)),
    "--descriptor_set_out": Case("POST", PUBLISH, _json_version({"--descriptor_set_out=x.proto": GOOD}),
                                 codes=("INVALID_PATH",)),
    "a well-known type shadowed": Case("POST", PUBLISH, _json_version(
        {"google/protobuf/timestamp.proto": 'syntax = "proto3";\npackage google.protobuf;\nmessage Timestamp {}\n'}),
        codes=("INVALID_PATH",)),
    "a well-known type shadowed, other case": Case("POST", PUBLISH, _json_version(
        {"Google/Protobuf/timestamp.proto": GOOD}), codes=("INVALID_PATH",)),
    "-I dependency": Case("POST", PUBLISH, {**_json_version({"a.proto": GOOD}), "dependencies": ["-Ifoo@v1.0.0"]},
                          codes=("DEPENDENCY_NOT_FOUND", "VALIDATION_ERROR", "BAD_REQUEST")),
    # 2. paths that collide on disk
    "file and directory": Case("POST", PUBLISH, _json_version({"x.proto": GOOD, "x.proto/y.proto": proto(1)}),
                               codes=("DUPLICATE_PATH", "INVALID_PATH")),
    "directory and file": Case("POST", PUBLISH, _json_version({"x.proto/y.proto": proto(1), "x.proto": GOOD}),
                               codes=("DUPLICATE_PATH", "INVALID_PATH")),
    "file and directory, multipart": Case("POST", PUBLISH, _multipart_version(("x.proto", GOOD),
                                                                              ("x.proto/y.proto", proto(1))),
                                          codes=("DUPLICATE_PATH", "INVALID_PATH")),
    "file and directory differing in case": Case("POST", PUBLISH, _json_version(
        {"X.proto": GOOD, "x.proto/y.proto": proto(1)}), codes=("DUPLICATE_PATH", "INVALID_PATH")),
    "A.proto and a.proto": Case("POST", PUBLISH, _json_version({"A.proto": GOOD, "a.proto": proto(1)}),
                                codes=("DUPLICATE_PATH",)),
    "A.proto and a.proto, multipart": Case("POST", PUBLISH,
                                           _multipart_version(("A.proto", GOOD), ("a.proto", proto(1))),
                                           codes=("DUPLICATE_PATH",)),
    "case-colliding directories": Case("POST", PUBLISH, _json_version({"Dir/a.proto": GOOD, "dir/a.proto": proto(1)}),
                                       codes=("DUPLICATE_PATH",)),
    "a 300-character segment": Case("POST", PUBLISH, _json_version({"a" * 294 + ".proto": GOOD}),
                                    codes=("INVALID_PATH",)),
    "a 256-character segment": Case("POST", PUBLISH, _json_version({"d/" + "a" * 250 + ".proto": GOOD}),
                                    codes=("INVALID_PATH",)),
    "13 segments": Case("POST", PUBLISH, _json_version({"/".join(f"d{i}" for i in range(12)) + "/x.proto": GOOD}),
                        codes=("INVALID_PATH",)),
    "a 600-character path": Case("POST", PUBLISH, _json_version({"/".join(["d" * 100] * 6) + ".proto": GOOD}),
                                 codes=("INVALID_PATH",)),
    "a NUL byte in a path": Case("POST", PUBLISH, _json_version({"a\x00.proto": GOOD}), codes=("INVALID_PATH",)),
    "a backslash in a path": Case("POST", PUBLISH, _json_version({"a\\b.proto": GOOD}), codes=("INVALID_PATH",)),
    "a unicode path": Case("POST", PUBLISH, _json_version({"é.proto": GOOD}), codes=("INVALID_PATH",)),
    "a file without a filename": Case("POST", PUBLISH,
                                      multipart({"version": "v9.2.{n}"}, [("file", "", GOOD.encode())]),
                                      codes=("INVALID_PATH", "NO_FILES", "BAD_REQUEST")),
    "a truncated multipart body": Case("POST", PUBLISH, (_multipart_version(("a.proto", GOOD))[0][:-30],
                                                         _multipart_version(("a.proto", GOOD))[1]),
                                       codes=("BAD_REQUEST", "NO_FILES", "INVALID_FILE")),
    # 3. unbounded text
    **{f"[ x 100,000 on {method} {path}": Case(method, path, DEEP, auth=auth, codes=("INVALID_JSON",))
       for method, path, auth in [
           ("POST", "/auth/login", "none"), ("POST", "/auth/register", "none"), ("POST", "/modules", "user"),
           ("POST", "/validate", "user"), ("POST", PUBLISH, "user"),
           ("POST", "/modules/base/compatibility/check", "user"),
           ("POST", "/organizations", "user"), ("POST", "/webhooks", "owner"), ("PATCH", "/modules/fz-shapes", "user"),
           ("POST", "/modules/base/versions/v1.0.0/compile", "user")]},
    '{"a": x 50,000': Case("POST", "/modules", '{"a": ' * 50_000, codes=("INVALID_JSON",)),
    "a 1,100-character pre-release": Case("POST", PUBLISH, _json_version({"a.proto": GOOD}, "v1.0.0-" + "a" * 1100),
                                          codes=("INVALID_VERSION",)),
    "300,000 characters of build metadata": Case("POST", PUBLISH, _json_version({"a.proto": GOOD},
                                                                                 "v1.0.0+" + "b" * 300_000),
                                                 codes=("INVALID_VERSION",)),
    "a 1,100-character pre-release in the path": Case("GET", "/modules/base/versions/v1.0.0-" + "a" * 1100,
                                                      codes=("INVALID_VERSION",)),
    "a 5,001-digit integer as a name": Case("POST", "/modules", f'{{"name": {INT_5001}}}',
                                            codes=("INVALID_JSON", "VALIDATION_ERROR"), forbidden=PYTHON_INT_TEXT),
    "a 5,001-digit integer on /auth/register": Case("POST", "/auth/register", f'{{"email": {INT_5001}, "password": 1}}',
                                                    auth="none", codes=("INVALID_JSON", "VALIDATION_ERROR"),
                                                    forbidden=PYTHON_INT_TEXT),
    "a 5,001-digit integer as a version": Case("POST", PUBLISH, f'{{"version": {INT_5001}, "files": {{}}}}',
                                               codes=("INVALID_JSON", "VALIDATION_ERROR", "INVALID_VERSION"),
                                               forbidden=PYTHON_INT_TEXT),
    "a 5,001-digit page": Case("GET", "/modules?page=" + INT_5001, codes=("VALIDATION_ERROR",),
                               forbidden=PYTHON_INT_TEXT),
    "a 5,001-digit page_size": Case("GET", "/modules/base/versions?page_size=" + INT_5001,
                                    codes=("VALIDATION_ERROR",), forbidden=PYTHON_INT_TEXT),
    "NaN": Case("POST", "/modules", '{"name": NaN}', codes=("INVALID_JSON",)),
    "Infinity": Case("POST", "/modules", '{"name": "x", "description": Infinity}', codes=("INVALID_JSON",)),
    "a lone surrogate in a file": Case("POST", PUBLISH, '{"version": "v9.3.{n}", "files": {"a.proto": "\\ud800"}}',
                                       codes=("INVALID_JSON", "INVALID_FILE")),
    "a 1,001-character description": Case("POST", "/modules", {"name": "long-description", "description": "d" * 1001},
                                          codes=("VALIDATION_ERROR",)),
    "a 300,000-character version description": Case("POST", PUBLISH, {**_json_version({"a.proto": GOOD}),
                                                                      "description": "d" * 300_000},
                                                    codes=("VALIDATION_ERROR",)),
    "a 65-character module name": Case("POST", "/modules", {"name": "m" * 65}, codes=("VALIDATION_ERROR",)),
    "a 10,000-character q": Case("GET", "/modules?q=" + "q" * 10_000, codes=("VALIDATION_ERROR", "BAD_REQUEST")),
    "a 100,000-character cursor": Case("GET", "/modules?cursor=" + "c" * 100_000,
                                       codes=("INVALID_CURSOR", "VALIDATION_ERROR")),
    "a 10,000-character X-Organization-ID": Case("GET", "/modules", auth="org:" + "o" * 10_000, status=(400, 404),
                                                 codes=("ORGANIZATION_NOT_FOUND", "VALIDATION_ERROR", "BAD_REQUEST")),
    "a 100,000-character bearer token": Case("GET", "/organizations", auth="token:" + "t" * 100_000, status=(401,),
                                             codes=("UNAUTHORIZED",)),
    # 5. loose values
    '"allow_breaking_major": "no"': Case("POST", "/modules", {"name": "loose-1", "compatibility": {
        "allow_breaking_major": "no"}}, codes=("VALIDATION_ERROR",)),
    '"allow_breaking_major": 0 on PATCH': Case("PATCH", "/modules/fz-shapes", {"compatibility": {
        "allow_breaking_major": 0}}, codes=("VALIDATION_ERROR",)),
    '"mode": 1': Case("POST", "/modules", {"name": "loose-2", "compatibility": {"mode": 1}},
                      codes=("VALIDATION_ERROR",)),
    "go_package_prefix a/../b": Case("POST", "/modules", {"name": "loose-3", "go_package_prefix": "a/../b"},
                                     codes=("VALIDATION_ERROR",)),
    "go_package_prefix a/../b on PATCH": Case("PATCH", "/modules/fz-shapes", {"go_package_prefix": "a/../b"},
                                              codes=("VALIDATION_ERROR",)),
    "go_package_prefix ../../x": Case("POST", "/modules", {"name": "loose-4", "go_package_prefix": "../../x"},
                                      codes=("VALIDATION_ERROR",)),
    "an email with a NUL byte": Case("POST", "/auth/register", {"email": "a\x00b@example.com", "password": PASSWORD},
                                     auth="none", codes=("VALIDATION_ERROR",)),
    "an email with <script>": Case("POST", "/auth/register", {"email": "<script>alert(1)</script>@example.com",
                                                              "password": PASSWORD}, auth="none",
                                   codes=("VALIDATION_ERROR",)),
    "an email with <script> in the domain": Case("POST", "/auth/register", {"email": "a@<script>.com",
                                                                            "password": PASSWORD}, auth="none",
                                                 codes=("VALIDATION_ERROR",)),
    "a member email with <script>": Case("POST", "/organizations/{org_id}/members", {"email": "<script>@example.com",
                                                                                     "role": "viewer"},
                                         codes=("VALIDATION_ERROR",)),
    "a 10,000-character organization name": Case("POST", "/organizations", {"name": "n" * 10_000, "slug": "long-name"},
                                                 codes=("VALIDATION_ERROR",)),
    "an organization name with a NUL byte": Case("POST", "/organizations", {"name": "a\x00b", "slug": "nul-name"},
                                                 codes=("VALIDATION_ERROR",)),
    "a 1,000-character first name": Case("POST", "/auth/register", {"email": "long-name@example.com",
                                                                    "password": PASSWORD, "first_name": "f" * 1000},
                                         auth="none", codes=("VALIDATION_ERROR",)),
    "an unknown compile language": Case("POST", "/modules/base/versions/v1.0.0/compile", {"languages": ["go" * 500]},
                                        codes=("UNKNOWN_LANGUAGE", "VALIDATION_ERROR")),
    "a traversal version in the path": Case("GET", "/modules/base/versions/..%2F..%2Fx", codes=("INVALID_VERSION",)),
    # 6. webhook addresses
    **{f"webhook to {host}": Case("POST", "/webhooks", {"url": f"https://{host}/hook", "events": ["*"],
                                                        "secret": SECRET}, auth="owner",
                                  codes=("INVALID_WEBHOOK_URL",))
       for host in ["[fec0::1]", "[fec0::1]:8443", "[fed0::1]", "[::ffff:169.254.169.254]", "[64:ff9b::a9fe:a9fe]",
                    "169.254.169.254", "100.64.0.1", "[fd00::1]", "[2001:db8::1]", "0.0.0.0", "127.1",
                    "sitelocal.fuzz.test", "mixed.fuzz.test", "private.fuzz.test"]},
    "a 3,000-character webhook URL": Case("POST", "/webhooks", {"url": "https://hooks.example.com/" + "p" * 3000,
                                                                "events": ["*"], "secret": SECRET},
                                          auth="owner", codes=("INVALID_WEBHOOK_URL", "VALIDATION_ERROR")),
    "a webhook PATCH to [fec0::1]": Case("PATCH", "/webhooks/{hook_id}", {"url": "https://[fec0::1]/x"}, auth="owner",
                                         codes=("INVALID_WEBHOOK_URL",)),
    # 8. anonymous expensive work
    "/validate without a token": Case("POST", "/validate", {"files": {"a.proto": GOOD}}, auth="none", status=(401,),
                                      codes=("UNAUTHORIZED",)),
    "/validate without a token, multipart": Case("POST", "/validate", _multipart_version(("a.proto", GOOD)),
                                                 auth="none", status=(401,), codes=("UNAUTHORIZED",)),
    "a compatibility check without a token": Case("POST", "/modules/base/compatibility/check",
                                                  {"version1": "v1.0.0", "version2": "v1.0.0"}, auth="none",
                                                  status=(401,), codes=("UNAUTHORIZED",)),
}


class TestIssue8Cases:
    """Every case of the issue and its variants, on one registry whose snapshots compare item contents."""

    @pytest.fixture(scope="class")
    def cases_world(self) -> Iterator[World]:
        with registry(contents=True) as w:
            yield w

    @pytest.mark.parametrize("name", list(CASES))
    def test_issue_8_case(self, cases_world: World, name: str) -> None:
        check_case(cases_world, name)

    @pytest.mark.parametrize("request_id, kept", [
        ("trace-0123456789", True), ("req_0123.abcd", True), ("éééééééé", False), ("١٢٣٤٥٦٧٨٩", False),
        ("ĀĀĀĀĀĀĀĀ", False), ("trace 0123456789", False), ("a" * 129, False), ("short", False),
        ("<script>alert(1)</script>", False)])
    def test_a_request_id_is_kept_only_when_it_is_sane(self, cases_world: World, request_id: str, kept: bool) -> None:
        # the answer's X-Request-ID must be printable ASCII whatever the caller sent (check_answer asserts it)
        answer, envelope = cases_world.send("GET", "/languages", headers={"X-Request-ID": request_id})
        assert answer.status == 200, answer.describe()
        assert (answer.headers["x-request-id"] == request_id) is kept, answer.headers["x-request-id"]

    def test_a_path_as_deep_as_publish_allows_is_served(self, cases_world: World) -> None:
        # 12 segments is the deepest path the grammar allows; publish and the file route must agree on it
        path = "/".join(f"d{i}" for i in range(11)) + "/deep.proto"
        version = cases_world.unique("v4.0.")
        answer, envelope = cases_world.post_json("/modules/fz-paths/versions",
                                                 {"version": version, "files": {path: GOOD}}, token=cases_world.token)
        assert answer.status == 201, answer.describe()
        served_as_published(cases_world, "fz-paths", version, {path: GOOD}, envelope["data"]["files"])


def check_case(world: World, name: str) -> None:
    case = CASES[name]
    n = str(next(world.counter))
    path = case.path.replace("{org_id}", world.org_id).replace("{hook_id}", world.hook_id)
    headers: dict[str, str] = {}
    if case.auth in ("user", "owner"):
        headers["Authorization"] = f"Bearer {world.token}"
    if case.auth == "owner":
        headers["X-Organization-ID"] = world.org_slug
    if case.auth.startswith("org:"):
        headers.update({"Authorization": f"Bearer {world.token}", "X-Organization-ID": case.auth[4:]})
    if case.auth.startswith("token:"):
        headers["Authorization"] = f"Bearer {case.auth[6:]}"
    body: bytes | str = b""
    if isinstance(case.body, tuple):
        body, headers["Content-Type"] = case.body[0].replace(b"{n}", n.encode()), case.body[1]
    elif isinstance(case.body, (dict, list)):
        body, headers["Content-Type"] = json.dumps(case.body).replace("{n}", n), "application/json"
    elif isinstance(case.body, (str, bytes)):
        body, headers["Content-Type"] = case.body.replace("{n}", n), "application/json"
    answer, envelope = world.send(case.method, path, body, headers)  # refused: the store is checked unchanged
    assert answer.status in case.status, f"{name}: expected {case.status} {case.codes}, got {answer.describe()}"
    assert envelope is not None and envelope["error"]["code"] in case.codes, \
        f"{name}: expected {case.codes}, got {answer.describe()}"
    message = envelope["error"]["message"]
    assert not [text for text in case.forbidden if text in message.lower()], f"{name}: message leaks: {message}"
    assert len(answer.body) < 20_000, f"{name}: a {len(answer.body)}-byte answer echoes the input"

