"""Registry-derived Go import paths and package names (pure)."""
from __future__ import annotations

import pytest

from chalicelib.adapters.codegen.packaging import go_import_plan, go_module_root
from chalicelib.domain.go_paths import GoPrefix, go_import_path_problem, go_package_name, registry_go_prefix


def test_the_registry_prefix_is_host_gen_go_org_module() -> None:
    assert registry_go_prefix("spoke.local", "default", "user") == "spoke.local/gen/go/default/user"
    assert registry_go_prefix("go.acme.com/protos/", "acme", "shop.api") == "go.acme.com/protos/gen/go/acme/shop.api"


def test_a_module_name_go_would_refuse_becomes_a_valid_element() -> None:
    # Module names may end with '.', which Go refuses at the end of a path element
    prefix = registry_go_prefix("spoke.local", "default", "odd.")
    assert prefix == "spoke.local/gen/go/default/odd_" and go_import_path_problem(prefix) is None


def test_a_prefix_too_long_for_go_is_none() -> None:
    assert registry_go_prefix("h" * 200, "default", "m" * 64) is None


@pytest.mark.parametrize(("package", "path", "name"), [
    ("user.v1", "x/user", "userv1"),
    ("acme.shop.v1beta1", "x", "shopv1beta1"),
    ("acme.money", "x", "money"),
    ("", "spoke.local/gen/go/default/plain", "plain"),
    ("acme.shop-api", "x", "shop_api"),
    ("acme.3d", "x", "_3d"),
])
def test_go_package_names_follow_bufs_managed_mode(package: str, path: str, name: str) -> None:
    assert go_package_name(package, path) == name


def test_a_derived_plan_names_each_directory_after_its_proto_package() -> None:
    go_packages = {"user.proto": None, "types.proto": None, "acme/money/money.proto": None,
                   "google/protobuf/timestamp.proto": "google.golang.org/protobuf/types/known/timestamppb"}
    proto_packages = {"user.proto": "user.v1", "types.proto": "user.v1", "acme/money/money.proto": "acme.money",
                      "google/protobuf/timestamp.proto": "google.protobuf"}
    plan = go_import_plan(go_packages, GoPrefix("spoke.local/gen/go/default/user", derived=True), proto_packages)
    # M flags carry the name; import paths (for go.mod and the manifest) do not
    assert plan.mappings == {"user.proto": "spoke.local/gen/go/default/user;userv1",
                             "types.proto": "spoke.local/gen/go/default/user;userv1",
                             "acme/money/money.proto": "spoke.local/gen/go/default/user/acme/money;money"}
    assert plan.import_paths["user.proto"] == "spoke.local/gen/go/default/user"
    assert go_module_root(["user.proto", "types.proto", "acme/money/money.proto"], plan.import_paths) \
        == "spoke.local/gen/go/default/user"


def test_a_directory_mixing_proto_packages_keeps_protoc_gen_gos_default_name() -> None:
    # protoc-gen-go refuses one Go package with two names: leave the name to it
    plan = go_import_plan({"a.proto": None, "b.proto": None}, GoPrefix("spoke.local/gen/go/default/m", derived=True),
                          {"a.proto": "alpha.v1", "b.proto": "beta.v1"})
    assert plan.mappings == {"a.proto": "spoke.local/gen/go/default/m", "b.proto": "spoke.local/gen/go/default/m"}


def test_an_explicit_prefix_keeps_its_old_mappings() -> None:
    # A module's own go_package_prefix: protoc-gen-go names packages as before (no name in the M flag)
    plan = go_import_plan({"acme/v1/a.proto": None}, "example.com/protos", {"acme/v1/a.proto": "acme.v1"})
    assert plan.mappings == {"acme/v1/a.proto": "example.com/protos/acme/v1"}


def test_a_dependencys_files_go_under_their_own_modules_prefix() -> None:
    # Given a module with its own prefix, importing a file of a dependency module that has none
    plan = go_import_plan({"shop/order.proto": None, "common/money.proto": None}, "example.com/shop",
                          {"shop/order.proto": "shop.v1", "common/money.proto": "common.v1"},
                          {"common/money.proto": GoPrefix("spoke.local/gen/go/default/common", derived=True)})
    # Then the dependency's file is imported from where its own Go code is generated
    assert plan.mappings == {"shop/order.proto": "example.com/shop/shop",
                             "common/money.proto": "spoke.local/gen/go/default/common/common;commonv1"}
    assert go_module_root(["shop/order.proto"], plan.import_paths) == "example.com/shop"


def _settings(**values: str) -> object:
    from chalicelib.config import Settings

    return Settings(table_name="t", bucket_name="b", compile_queue_name="c", events_queue_name="e",
                    jwt_secret="s" * 32, **values)


def test_the_go_module_host_defaults_to_spoke_local_and_is_checked() -> None:
    assert _settings().go_module_host == "spoke.local"
    assert _settings(go_module_host="go.acme.com/protos/").go_module_host == "go.acme.com/protos"
    for bad in ("../evil", "a,b", "", "host with space"):
        with pytest.raises(ValueError, match="SPOKE_GO_MODULE_HOST"):
            _settings(go_module_host=bad)
