"""BreakingConfig: parsing buf.yaml's `breaking` section (v1 and v2) and resolving it to rules like buf."""
from __future__ import annotations

import json
import subprocess

import pytest

from chalicelib.domain.breaking import (
    ALL_RULE_IDS,
    ALL_RULES,
    CATALOGUES,
    IMPLEMENTED_RULE_IDS,
    BreakingConfig,
    InvalidBreakingConfig,
    UnknownRule,
)
from chalicelib.domain.breaking.config import BreakingPolicy, policy_from_document
from chalicelib.domain.breaking.engine import is_unstable_package
from chalicelib.domain.errors import BadRequest

from .harness import tool


def buf_json_lines(*args: str) -> list[dict[str, object]]:
    proc = subprocess.run([tool("buf"), *args], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


# --- catalogue -------------------------------------------------------------------------------------
def test_all_rules_is_bufs_v2_catalogue() -> None:
    assert len(ALL_RULES) == 64
    assert IMPLEMENTED_RULE_IDS == ALL_RULE_IDS


@pytest.mark.parametrize("version", ["v1beta1", "v1", "v2"])
def test_catalogues_match_the_installed_buf(version: str) -> None:
    expected = buf_json_lines("config", "ls-breaking-rules", "--configured-only=false", "--version", version,
                              "--include-deprecated", "--format", "json")
    ours = [rule.to_buf_json() for rule in CATALOGUES[version]]
    assert sorted(ours, key=lambda r: str(r["id"])) == sorted(expected, key=lambda r: str(r["id"]))


# --- parsing ---------------------------------------------------------------------------------------
def test_defaults() -> None:
    config = BreakingConfig()
    assert config.use == ["FILE"] and config.except_ == [] and config.ignore == []
    assert config.ignore_only == {} and config.ignore_unstable_packages is False and config.version == "v2"


def test_from_v2_section() -> None:
    config = BreakingConfig.from_buf_yaml(
        {"use": ["WIRE_JSON"], "except": ["FIELD_SAME_NAME"], "ignore": ["vendor"],
         "ignore_only": {"FIELD_SAME_TYPE": ["a/b.proto"]}, "ignore_unstable_packages": True}, "v2")
    assert config.use == ["WIRE_JSON"] and config.except_ == ["FIELD_SAME_NAME"]
    assert config.ignore == ["vendor"] and config.ignore_only == {"FIELD_SAME_TYPE": ["a/b.proto"]}
    assert config.ignore_unstable_packages is True and config.version == "v2"


def test_from_whole_v1_document() -> None:
    config = BreakingConfig.from_buf_yaml_document(
        {"version": "v1", "lint": {"use": ["DEFAULT"]}, "breaking": {"use": ["FILE"], "except": ["FILE_NO_DELETE"]}})
    assert config.version == "v1" and config.use == ["FILE"] and config.except_ == ["FILE_NO_DELETE"]


def test_document_without_breaking_section_uses_buf_defaults() -> None:
    resolved = BreakingConfig.from_buf_yaml_document({"version": "v2"}).resolve()
    assert set(resolved.rule_ids) == {rule.id for rule in ALL_RULES if rule.default}


@pytest.mark.parametrize("section", [{"use": "FILE"}, {"ignore_only": ["x"]}, {"unknown": 1}])
def test_malformed_sections_are_rejected(section: dict[str, object]) -> None:
    with pytest.raises(InvalidBreakingConfig):
        BreakingConfig.from_buf_yaml(section, "v2")


def test_disable_builtin_is_v2_only() -> None:
    assert BreakingConfig.from_buf_yaml({"disable_builtin": True}, "v2").resolve().rule_ids == ()
    with pytest.raises(InvalidBreakingConfig):
        BreakingConfig.from_buf_yaml({"disable_builtin": True}, "v1")


# --- resolution ------------------------------------------------------------------------------------
def test_unknown_rule_is_a_bad_request_with_its_code() -> None:
    with pytest.raises(UnknownRule) as caught:
        BreakingConfig(use=["FILE", "NOT_A_RULE"]).resolve()
    assert isinstance(caught.value, BadRequest)
    assert caught.value.code == "UNKNOWN_RULE"
    assert caught.value.message == '"NOT_A_RULE" is not a known rule or category ID'


@pytest.mark.parametrize("field", ["except_", "ignore_only"])
def test_unknown_ids_are_rejected_everywhere(field: str) -> None:
    value: object = ["NOPE"] if field == "except_" else {"NOPE": ["a.proto"]}
    with pytest.raises(UnknownRule):
        BreakingConfig(**{field: value}).resolve()  # type: ignore[arg-type]


def test_deprecated_v1_ids_map_to_their_replacements() -> None:
    resolved = BreakingConfig(use=["FIELD_SAME_LABEL", "FIELD_SAME_CTYPE"], version="v1").resolve()
    assert resolved.rule_ids == ("FIELD_SAME_CARDINALITY", "FIELD_SAME_CPP_STRING_TYPE",
                                 "FIELD_WIRE_COMPATIBLE_CARDINALITY", "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY")


def test_deprecated_v1_ids_do_not_exist_in_v2() -> None:
    with pytest.raises(UnknownRule):
        BreakingConfig(use=["FIELD_SAME_LABEL"], version="v2").resolve()


def test_ignore_only_categories_and_deprecated_ids_expand() -> None:
    resolved = BreakingConfig(use=["FILE"], ignore_only={"WIRE": ["a"], "FIELD_SAME_LABEL": ["b/"]},
                              version="v1").resolve()
    assert resolved.ignore_rule_paths["FIELD_WIRE_COMPATIBLE_TYPE"] == {"a"}
    assert resolved.ignore_rule_paths["FIELD_SAME_CARDINALITY"] == {"b"}  # not a WIRE rule in v1
    assert resolved.ignore_rule_paths["FIELD_WIRE_COMPATIBLE_CARDINALITY"] == {"a", "b"}


@pytest.mark.parametrize("config", [
    BreakingConfig(use=["FILE"], except_=["FILE"]),
    BreakingConfig(use=["MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT"]),
])
def test_configs_selecting_nothing_are_rejected(config: BreakingConfig) -> None:
    with pytest.raises(InvalidBreakingConfig):
        config.resolve()


@pytest.mark.parametrize("path", ["/abs", "../up", "a/../../b"])
def test_ignore_paths_must_stay_inside(path: str) -> None:
    with pytest.raises(InvalidBreakingConfig):
        BreakingConfig(ignore=[path]).resolve()


def test_ignore_paths_are_normalised() -> None:
    assert BreakingConfig(ignore=["./a//b/", "c"]).resolve().ignore_paths == {"a/b", "c"}


CONFIGS_TO_COMPARE = [
    {"version": "v2"},
    {"version": "v1"},
    {"version": "v1beta1"},
    {"version": "v2", "breaking": {"use": ["FILE"]}},
    {"version": "v2", "breaking": {"use": ["PACKAGE"]}},
    {"version": "v2", "breaking": {"use": ["WIRE_JSON"]}},
    {"version": "v2", "breaking": {"use": ["WIRE"]}},
    {"version": "v2", "breaking": {"use": ["CSR"]}},
    {"version": "v2", "breaking": {"use": ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"]}},
    {"version": "v2", "breaking": {"except": ["FILE_NO_DELETE", "WIRE"]}},
    {"version": "v2", "breaking": {"use": ["WIRE", "RPC_NO_DELETE"], "except": ["FIELD_SAME_ONEOF"]}},
    {"version": "v1", "breaking": {"use": ["FILE"]}},
    {"version": "v1", "breaking": {"use": ["WIRE_JSON"]}},
    {"version": "v1", "breaking": {"use": ["FIELD_SAME_LABEL", "FILE_SAME_JAVA_STRING_CHECK_UTF8", "WIRE"]}},
    {"version": "v1", "breaking": {"use": ["PACKAGE"], "except": ["FIELD_SAME_CTYPE"]}},
    {"version": "v1beta1", "breaking": {"use": ["WIRE"]}},
]


@pytest.mark.parametrize("document", CONFIGS_TO_COMPARE, ids=[json.dumps(c) for c in CONFIGS_TO_COMPARE])
def test_resolved_rules_match_buf(document: dict[str, object]) -> None:
    expected = buf_json_lines("config", "ls-breaking-rules", "--configured-only", "--config", json.dumps(document),
                              "--format", "json")
    resolved = BreakingConfig.from_buf_yaml_document(document).resolve()
    assert sorted(resolved.rule_ids) == sorted(str(rule["id"]) for rule in expected)
    categories = {str(rule["id"]): tuple(rule["categories"]) for rule in expected}  # type: ignore[arg-type]
    assert resolved.categories == categories


@pytest.mark.parametrize("package, unstable", [
    ("acme.v1", False), ("acme.v1beta1", True), ("acme.v1alpha", True), ("acme.v2test", True),
    ("acme.v1testfoo", True), ("acme.v1p1beta1", True), ("acme.v1p1alpha2", True), ("acme.v1alphabeta1", False),
    ("v1beta1", False), ("acme.beta", False), ("acme.v0beta1", False), ("acme.vbeta1", False), ("", False),
    ("acme.v1beta0", False), ("acme.v1.internal", False),
])
def test_unstable_packages_follow_bufs_protoversion(package: str, unstable: bool) -> None:
    assert is_unstable_package(package) is unstable


# --- policies (buf.yaml v2 `policies:`) ---------------------------------------------------------------
def test_a_policy_without_breaking_section_runs_bufs_defaults() -> None:
    policy = policy_from_document("p.yaml", {"version": "v2", "name": "buf.build/acme/p", "lint": {"use": ["MINIMAL"]}})
    assert policy.name == "p.yaml"
    assert set(policy.config.resolve().rule_ids) == {rule.id for rule in ALL_RULES if rule.default}


def test_a_policy_takes_its_ignores_from_the_buf_yaml_entry() -> None:
    policy = policy_from_document("p.yaml", {"version": "v2", "breaking": {"use": ["WIRE"]}},
                                  {"policy": "p.yaml", "ignore": ["vendor"], "ignore_only": {"WIRE": ["a.proto"]}})
    assert policy.config.use == ["WIRE"] and policy.config.ignore == ["vendor"]
    assert policy.config.ignore_only == {"WIRE": ["a.proto"]}


def test_a_policy_with_disable_builtin_runs_nothing() -> None:
    policy = policy_from_document("p.yaml", {"version": "v2", "breaking": {"use": ["WIRE"], "disable_builtin": True}})
    assert policy.config.resolve().rule_ids == ()


@pytest.mark.parametrize("document, entry", [
    ({"version": "v1", "breaking": {"use": ["WIRE"]}}, None),
    ({"breaking": {"use": ["WIRE"]}}, None),
    ({"version": "v2", "breaking": {"ignore": ["a.proto"]}}, None),
    ({"version": "v2", "deps": []}, None),
    ({"version": "v2", "plugins": [{"plugin": "buf-plugin-x"}]}, None),
    ({"version": "v2"}, {"policy": "p.yaml", "except": ["WIRE"]}),
], ids=["v1", "no-version", "ignore-in-policy", "unknown-key", "plugins", "unknown-entry-key"])
def test_policies_buf_would_refuse_are_refused(document: dict[str, object], entry: dict[str, object] | None) -> None:
    with pytest.raises(InvalidBreakingConfig):
        policy_from_document("p.yaml", document, entry)


def test_policy_findings_are_kept_beside_the_modules_own_and_name_the_policy() -> None:
    from google.protobuf import descriptor_pb2

    field_proto = descriptor_pb2.FieldDescriptorProto

    def image(*fields: str) -> descriptor_pb2.FileDescriptorSet:
        message = descriptor_pb2.DescriptorProto(name="M", field=[
            field_proto(name=name, number=number, type=field_proto.TYPE_STRING, label=field_proto.LABEL_OPTIONAL)
            for number, name in enumerate(fields, start=1)])
        return descriptor_pb2.FileDescriptorSet(file=[descriptor_pb2.FileDescriptorProto(
            name="a.proto", package="p.v1", syntax="proto3", message_type=[message])])

    from chalicelib.domain.breaking import check_breaking

    # Given a field deleted, the module's own FIELD_NO_DELETE and a policy with the same rule
    policy = BreakingPolicy("strict.yaml", BreakingConfig(use=["FIELD_NO_DELETE"]))
    config = BreakingConfig(use=["FIELD_NO_DELETE"], policies=(policy,))
    # When checked
    findings = check_breaking(image("x"), image("x", "y"), config)
    # Then both report it, the policy's after the module's, naming the policy
    assert [(f.rule, f.policy) for f in findings] == [("FIELD_NO_DELETE", ""), ("FIELD_NO_DELETE", "strict.yaml")]
    assert findings[1].to_buf_json()["policy"] == "strict.yaml"
    # And with disable_builtin only the policy's remains
    only_policy = check_breaking(image("x"), image("x", "y"),
                                 BreakingConfig(use=["FILE"], disable_builtin=True, policies=(policy,)))
    assert [f.policy for f in only_policy] == ["strict.yaml"]
