"""The closure ZIP (`?with_dependencies=true`) built from stored ZIPs: layout per language, determinism, bounds."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from chalicelib.domain.errors import ClosureConflict, ClosureTooLarge
from chalicelib.domain.zips import ClosurePart, closure_zip, deterministic_zip


def _stored(module: str, files: dict[str, bytes], extras: dict[str, bytes], go_module: str | None = None
            ) -> ClosurePart:
    """A module's ZIP as the generator stores it: generated files, extras and its manifest."""
    manifest: dict[str, object] = {"module": module, "files": [{"path": p} for p in sorted(files)],
                                   "extras": sorted(extras)}
    if go_module is not None:
        manifest["go"] = {"module_path": go_module}
    body = deterministic_zip({**files, **extras, "spoke-manifest.json": json.dumps(manifest).encode()})
    return ClosurePart(module, "v1.0.0", hashlib.sha256(body).hexdigest(), body)


def _entries(body: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name: archive.read(name) for name in archive.namelist()}


GO_ORDERS = _stored("orders", {"acme/orders/v1/orders.pb.go": b"package ordersv1"},
                    {"go.mod": b"module spoke.local/gen/go/acme/orders\n"}, "spoke.local/gen/go/acme/orders")
GO_COMMON = _stored("common", {"acme/common/v1/money.pb.go": b"package commonv1"},
                    {"go.mod": b"module spoke.local/gen/go/acme/common\n"}, "spoke.local/gen/go/acme/common")


def test_go_modules_stay_their_own_directories_under_one_go_work() -> None:
    # When the closure of orders (which needs common) is built for Go
    entries = _entries(closure_zip("go", "orders", [GO_ORDERS, GO_COMMON], 10**6))
    # Then each module's ZIP is unpacked as is into its own directory, and go.work uses both
    assert entries["orders/go.mod"] == b"module spoke.local/gen/go/acme/orders\n"
    assert entries["common/acme/common/v1/money.pb.go"] == b"package commonv1"
    assert "common/spoke-manifest.json" in entries and "orders/spoke-manifest.json" in entries
    assert entries["go.work"] == (b"go 1.21\n\nuse (\n\t./common\n\t./orders\n)\n\nreplace (\n"
                                  b"\tspoke.local/gen/go/acme/common v1.0.0 => ./common\n"
                                  b"\tspoke.local/gen/go/acme/orders v1.0.0 => ./orders\n)\n")
    closure = json.loads(entries["spoke-closure.json"])
    assert [(m["module"], m["directory"]) for m in closure["modules"]] == [("common", "common"), ("orders", "orders")]
    assert closure["modules"][0]["sha256"] == GO_COMMON.sha256


def test_modules_sharing_one_go_module_path_share_the_top_modules_directory() -> None:
    shop = _stored("shop", {"shop/v1/o.pb.go": b"package shopv1"}, {"go.mod": b"module github.com/acme/p\n"},
                   "github.com/acme/p")
    base = _stored("base", {"base/v1/b.pb.go": b"package basev1"}, {"go.mod": b"module github.com/acme/p\n"},
                   "github.com/acme/p")
    entries = _entries(closure_zip("go", "shop", [shop, base], 10**6))
    assert entries["go.work"] == (b"go 1.21\n\nuse (\n\t./shop\n)\n\n"
                                  b"replace (\n\tgithub.com/acme/p v1.0.0 => ./shop\n)\n")
    assert entries["shop/base/v1/b.pb.go"] == b"package basev1" and "shop/shop/v1/o.pb.go" in entries
    assert "spoke-modules/base/spoke-manifest.json" in entries   # base's own files stay, out of the way


def test_other_languages_merge_generated_files_into_one_tree_and_keep_each_modules_package_files() -> None:
    orders = _stored("orders", {"acme/orders/v1/orders_pb2.py": b"o", "acme/orders/v1/orders_pb2_grpc.py": b"g"},
                     {"requirements.txt": b"protobuf>=6.31.1,<7\ngrpcio>=1.73.0\n", "pyproject.toml": b"[project]"})
    common = _stored("common", {"acme/common/v1/money_pb2.py": b"m"},
                     {"requirements.txt": b"protobuf>=6.31.1,<7\n", "pyproject.toml": b"[project]"})
    entries = _entries(closure_zip("python", "orders", [orders, common], 10**6))
    assert {"acme/orders/v1/orders_pb2.py", "acme/orders/v1/orders_pb2_grpc.py",
            "acme/common/v1/money_pb2.py"} <= set(entries)
    assert entries["requirements.txt"] == b"grpcio>=1.73.0\nprotobuf>=6.31.1,<7\n"
    assert entries["spoke-modules/orders/pyproject.toml"] == b"[project]"
    assert "spoke-modules/common/spoke-manifest.json" in entries
    assert "go.work" not in entries and "spoke-manifest.json" not in entries


def test_the_same_parts_give_the_same_bytes_in_any_order() -> None:
    assert closure_zip("go", "orders", [GO_ORDERS, GO_COMMON], 10**6) == \
        closure_zip("go", "orders", [GO_COMMON, GO_ORDERS], 10**6)


def test_two_modules_generating_one_path_differently_is_a_conflict_the_same_bytes_are_not() -> None:
    one = _stored("one", {"x/A.java": b"class A { int a; }"}, {})
    same = _stored("same", {"x/A.java": b"class A { int a; }"}, {})
    other = _stored("other", {"x/A.java": b"class A { int b; }"}, {})
    assert "x/A.java" in _entries(closure_zip("java", "one", [one, same], 10**6))
    with pytest.raises(ClosureConflict) as raised:
        closure_zip("java", "one", [one, other], 10**6)
    assert raised.value.details == {"path": "x/A.java", "modules": ["one", "other"]}


def test_a_closure_that_unpacks_beyond_the_bound_is_refused_before_it_is_built() -> None:
    big = _stored("big", {"big_pb2.py": b"x" * 5000}, {})
    with pytest.raises(ClosureTooLarge):
        closure_zip("python", "big", [big], 4000)
