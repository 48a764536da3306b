"""The catalogue of breaking-change rules, exactly as `buf config ls-breaking-rules` lists it.

buf keeps one catalogue per buf.yaml version (v1beta1, v1, v2): the same rule IDs, but different
categories, defaults and deprecations. We keep all three so a v1 buf.yaml behaves as it does in buf.
The data below was taken from buf 1.75 (`--configured-only=false --include-deprecated --format json`)
and a unit test compares it with the installed buf.
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_VERSION = "v2"
VERSIONS = ("v1beta1", "v1", "v2")


@dataclass(frozen=True)
class RuleSpec:
    """One rule of one catalogue version; deprecated rules carry their replacements instead of categories."""

    id: str
    categories: tuple[str, ...]
    default: bool
    purpose: str
    deprecated: bool = False
    replacements: tuple[str, ...] = ()

    def to_buf_json(self) -> dict[str, object]:
        """The shape `buf config ls-breaking-rules --format json` prints."""
        return {
            "id": self.id,
            "categories": list(self.categories),
            "default": self.default,
            "purpose": self.purpose,
            "plugin": "",
            "deprecated": self.deprecated,
            "replacements": list(self.replacements) or None,
        }


_PURPOSES: dict[str, str] = {
    'ENUM_NO_DELETE': 'Checks that enums are not deleted from a given file.',
    'ENUM_SAME_JSON_FORMAT': 'Checks that enums have the same JSON format support.',
    'ENUM_SAME_TYPE': 'Checks that enums have the same type (open vs closed).',
    'ENUM_VALUE_NO_DELETE': 'Checks that enum values are not deleted from a given enum.',
    'ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED': 'Checks that enum values are not deleted from a given enum unless the name is reserved.',
    'ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED': 'Checks that enum values are not deleted from a given enum unless the number is reserved.',
    'ENUM_VALUE_SAME_NAME': 'Checks that enum values have the same name.',
    'EXTENSION_MESSAGE_NO_DELETE': 'Checks that extension ranges are not deleted from a given message.',
    'EXTENSION_NO_DELETE': 'Checks that extensions are not deleted from a given file.',
    'FIELD_NO_DELETE': 'Checks that fields are not deleted from a given message.',
    'FIELD_NO_DELETE_UNLESS_NAME_RESERVED': 'Checks that fields are not deleted from a given message unless the name is reserved.',
    'FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED': 'Checks that fields are not deleted from a given message unless the number is reserved.',
    'FIELD_SAME_CARDINALITY': 'Checks that fields have the same cardinalities in a given message.',
    'FIELD_SAME_CPP_STRING_TYPE': 'Checks that fields have the same C++ string type, based on ctype field option or (pb.cpp).string_type feature.',
    'FIELD_SAME_CTYPE': 'Checks that fields have the same value for the ctype option.',
    'FIELD_SAME_DEFAULT': 'Checks that fields have the same default value, if a default is specified.',
    'FIELD_SAME_JAVA_UTF8_VALIDATION': 'Checks that fields have the same Java string UTF8 validation, based on java_string_check_utf8 file option or (pb.java).utf8_validation feature.',
    'FIELD_SAME_JSON_NAME': 'Checks that fields have the same value for the json_name option.',
    'FIELD_SAME_JSTYPE': 'Checks that fields have the same value for the jstype option.',
    'FIELD_SAME_LABEL': 'Checks that fields have the same labels in a given message.',
    'FIELD_SAME_NAME': 'Checks that fields have the same names in a given message.',
    'FIELD_SAME_ONEOF': 'Checks that fields have the same oneofs in a given message.',
    'FIELD_SAME_TYPE': 'Checks that fields have the same types in a given message.',
    'FIELD_SAME_UTF8_VALIDATION': 'Checks that string fields have the same UTF8 validation mode.',
    'FIELD_WIRE_COMPATIBLE_CARDINALITY': 'Checks that fields have wire-compatible cardinalities in a given message.',
    'FIELD_WIRE_COMPATIBLE_TYPE': 'Checks that fields have wire-compatible types in a given message.',
    'FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY': 'Checks that fields have wire and JSON compatible cardinalities in a given message.',
    'FIELD_WIRE_JSON_COMPATIBLE_TYPE': 'Checks that fields have wire and JSON compatible types in a given message.',
    'FILE_NO_DELETE': 'Checks that files are not deleted.',
    'FILE_SAME_CC_ENABLE_ARENAS': 'Checks that files have the same value for the cc_enable_arenas option.',
    'FILE_SAME_CC_GENERIC_SERVICES': 'Checks that files have the same value for the cc_generic_services option.',
    'FILE_SAME_CSHARP_NAMESPACE': 'Checks that files have the same value for the csharp_namespace option.',
    'FILE_SAME_GO_PACKAGE': 'Checks that files have the same value for the go_package option.',
    'FILE_SAME_JAVA_GENERIC_SERVICES': 'Checks that files have the same value for the java_generic_services option.',
    'FILE_SAME_JAVA_MULTIPLE_FILES': 'Checks that files have the same value for the java_multiple_files option.',
    'FILE_SAME_JAVA_OUTER_CLASSNAME': 'Checks that files have the same value for the java_outer_classname option.',
    'FILE_SAME_JAVA_PACKAGE': 'Checks that files have the same value for the java_package option.',
    'FILE_SAME_JAVA_STRING_CHECK_UTF8': 'Checks that files have the same value for the java_string_check_utf8 option.',
    'FILE_SAME_OBJC_CLASS_PREFIX': 'Checks that files have the same value for the objc_class_prefix option.',
    'FILE_SAME_OPTIMIZE_FOR': 'Checks that files have the same value for the optimize_for option.',
    'FILE_SAME_PACKAGE': 'Checks that files have the same package.',
    'FILE_SAME_PHP_CLASS_PREFIX': 'Checks that files have the same value for the php_class_prefix option.',
    'FILE_SAME_PHP_GENERIC_SERVICES': 'Checks that files have the same value for the php_generic_services option.',
    'FILE_SAME_PHP_METADATA_NAMESPACE': 'Checks that files have the same value for the php_metadata_namespace option.',
    'FILE_SAME_PHP_NAMESPACE': 'Checks that files have the same value for the php_namespace option.',
    'FILE_SAME_PY_GENERIC_SERVICES': 'Checks that files have the same value for the py_generic_services option.',
    'FILE_SAME_RUBY_PACKAGE': 'Checks that files have the same value for the ruby_package option.',
    'FILE_SAME_SWIFT_PREFIX': 'Checks that files have the same value for the swift_prefix option.',
    'FILE_SAME_SYNTAX': 'Checks that files have the same syntax.',
    'MESSAGE_NO_DELETE': 'Checks that messages are not deleted from a given file.',
    'MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR': 'Checks that messages do not change the no_standard_descriptor_accessor option from false or unset to true.',
    'MESSAGE_SAME_JSON_FORMAT': 'Checks that messages have the same JSON format support.',
    'MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT': 'Checks that messages have the same value for the message_set_wire_format option.',
    'MESSAGE_SAME_REQUIRED_FIELDS': 'Checks that messages have no added or deleted required fields.',
    'ONEOF_NO_DELETE': 'Checks that oneofs are not deleted from a given message.',
    'PACKAGE_ENUM_NO_DELETE': 'Checks that enums are not deleted from a given package.',
    'PACKAGE_EXTENSION_NO_DELETE': 'Checks that extensions are not deleted from a given package.',
    'PACKAGE_MESSAGE_NO_DELETE': 'Checks that messages are not deleted from a given package.',
    'PACKAGE_NO_DELETE': 'Checks that packages are not deleted.',
    'PACKAGE_SERVICE_NO_DELETE': 'Checks that services are not deleted from a given package.',
    'RESERVED_ENUM_NO_DELETE': 'Checks that reserved ranges and names are not deleted from a given enum.',
    'RESERVED_MESSAGE_NO_DELETE': 'Checks that reserved ranges and names are not deleted from a given message.',
    'RPC_NO_DELETE': 'Checks that rpcs are not deleted from a given service.',
    'RPC_SAME_CLIENT_STREAMING': 'Checks that rpcs have the same client streaming value.',
    'RPC_SAME_IDEMPOTENCY_LEVEL': 'Checks that rpcs have the same value for the idempotency_level option.',
    'RPC_SAME_REQUEST_TYPE': 'Checks that rpcs are have the same request type.',
    'RPC_SAME_RESPONSE_TYPE': 'Checks that rpcs are have the same response type.',
    'RPC_SAME_SERVER_STREAMING': 'Checks that rpcs have the same server streaming value.',
    'SERVICE_NO_DELETE': 'Checks that services are not deleted from a given file.',
}

_V1BETA1: tuple[tuple[str, str, bool, bool, str], ...] = (
    # (id, space-separated categories, default, deprecated, space-separated replacements)
    ('ENUM_NO_DELETE', 'FILE', True, False, ''),
    ('FILE_NO_DELETE', 'FILE', True, False, ''),
    ('FILE_SAME_PACKAGE', 'FILE', True, False, ''),
    ('MESSAGE_NO_DELETE', 'FILE', True, False, ''),
    ('SERVICE_NO_DELETE', 'FILE', True, False, ''),
    ('ENUM_SAME_TYPE', 'FILE PACKAGE', True, False, ''),
    ('ENUM_VALUE_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('EXTENSION_MESSAGE_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_CPP_STRING_TYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_JAVA_UTF8_VALIDATION', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_JSTYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_UTF8_VALIDATION', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CC_ENABLE_ARENAS', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CC_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CSHARP_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_GO_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_MULTIPLE_FILES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_OUTER_CLASSNAME', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_OBJC_CLASS_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_OPTIMIZE_FOR', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_CLASS_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_METADATA_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PY_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_RUBY_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_SWIFT_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_SYNTAX', 'FILE PACKAGE', True, False, ''),
    ('MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR', 'FILE PACKAGE', True, False, ''),
    ('ONEOF_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('RPC_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('ENUM_SAME_JSON_FORMAT', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('ENUM_VALUE_SAME_NAME', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_JSON_NAME', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_NAME', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('MESSAGE_SAME_JSON_FORMAT', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_CARDINALITY', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('FIELD_SAME_ONEOF', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('FIELD_SAME_TYPE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('MESSAGE_SAME_REQUIRED_FIELDS', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RESERVED_ENUM_NO_DELETE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RESERVED_MESSAGE_NO_DELETE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_CLIENT_STREAMING', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_IDEMPOTENCY_LEVEL', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_REQUEST_TYPE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_RESPONSE_TYPE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_SERVER_STREAMING', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('PACKAGE_ENUM_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_MESSAGE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_SERVICE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED', 'WIRE_JSON', False, False, ''),
    ('FIELD_NO_DELETE_UNLESS_NAME_RESERVED', 'WIRE_JSON', False, False, ''),
    ('FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY', 'WIRE_JSON', False, False, ''),
    ('ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED', 'WIRE_JSON WIRE', False, False, ''),
    ('FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED', 'WIRE_JSON WIRE', False, False, ''),
    ('FIELD_WIRE_COMPATIBLE_CARDINALITY', 'WIRE', False, False, ''),
    ('FIELD_SAME_CTYPE', '', False, True, 'FIELD_SAME_CPP_STRING_TYPE'),
    ('FIELD_SAME_LABEL', '', False, True, 'FIELD_SAME_CARDINALITY FIELD_WIRE_COMPATIBLE_CARDINALITY FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY'),
    ('FILE_SAME_JAVA_STRING_CHECK_UTF8', '', False, True, 'FIELD_SAME_JAVA_UTF8_VALIDATION'),
    ('FILE_SAME_PHP_GENERIC_SERVICES', '', False, True, ''),
    ('MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT', '', False, True, ''),
)

_V1: tuple[tuple[str, str, bool, bool, str], ...] = (
    # (id, space-separated categories, default, deprecated, space-separated replacements)
    ('ENUM_NO_DELETE', 'FILE', True, False, ''),
    ('FILE_NO_DELETE', 'FILE', True, False, ''),
    ('MESSAGE_NO_DELETE', 'FILE', True, False, ''),
    ('SERVICE_NO_DELETE', 'FILE', True, False, ''),
    ('ENUM_SAME_TYPE', 'FILE PACKAGE', True, False, ''),
    ('ENUM_VALUE_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('EXTENSION_MESSAGE_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_CARDINALITY', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_CPP_STRING_TYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_JAVA_UTF8_VALIDATION', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_JSTYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_TYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_UTF8_VALIDATION', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CC_ENABLE_ARENAS', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CC_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CSHARP_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_GO_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_MULTIPLE_FILES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_OUTER_CLASSNAME', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_OBJC_CLASS_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_OPTIMIZE_FOR', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_CLASS_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_METADATA_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PY_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_RUBY_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_SWIFT_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_SYNTAX', 'FILE PACKAGE', True, False, ''),
    ('MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR', 'FILE PACKAGE', True, False, ''),
    ('ONEOF_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('RPC_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('ENUM_SAME_JSON_FORMAT', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('ENUM_VALUE_SAME_NAME', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_JSON_NAME', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_NAME', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('MESSAGE_SAME_JSON_FORMAT', 'FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_ONEOF', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('FILE_SAME_PACKAGE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('MESSAGE_SAME_REQUIRED_FIELDS', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RESERVED_ENUM_NO_DELETE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RESERVED_MESSAGE_NO_DELETE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_CLIENT_STREAMING', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_IDEMPOTENCY_LEVEL', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_REQUEST_TYPE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_RESPONSE_TYPE', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_SERVER_STREAMING', 'FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('PACKAGE_ENUM_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_MESSAGE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_SERVICE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED', 'WIRE_JSON', False, False, ''),
    ('FIELD_NO_DELETE_UNLESS_NAME_RESERVED', 'WIRE_JSON', False, False, ''),
    ('FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY', 'WIRE_JSON', False, False, ''),
    ('FIELD_WIRE_JSON_COMPATIBLE_TYPE', 'WIRE_JSON', False, False, ''),
    ('ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED', 'WIRE_JSON WIRE', False, False, ''),
    ('FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED', 'WIRE_JSON WIRE', False, False, ''),
    ('FIELD_WIRE_COMPATIBLE_CARDINALITY', 'WIRE', False, False, ''),
    ('FIELD_WIRE_COMPATIBLE_TYPE', 'WIRE', False, False, ''),
    ('FIELD_SAME_CTYPE', '', False, True, 'FIELD_SAME_CPP_STRING_TYPE'),
    ('FIELD_SAME_LABEL', '', False, True, 'FIELD_SAME_CARDINALITY FIELD_WIRE_COMPATIBLE_CARDINALITY FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY'),
    ('FILE_SAME_JAVA_STRING_CHECK_UTF8', '', False, True, 'FIELD_SAME_JAVA_UTF8_VALIDATION'),
    ('FILE_SAME_PHP_GENERIC_SERVICES', '', False, True, ''),
    ('MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT', '', False, True, ''),
)

_V2: tuple[tuple[str, str, bool, bool, str], ...] = (
    # (id, space-separated categories, default, deprecated, space-separated replacements)
    ('EXTENSION_NO_DELETE', 'FILE', True, False, ''),
    ('SERVICE_NO_DELETE', 'FILE', True, False, ''),
    ('ENUM_NO_DELETE', 'CSR FILE', True, False, ''),
    ('FILE_NO_DELETE', 'CSR FILE', True, False, ''),
    ('MESSAGE_NO_DELETE', 'CSR FILE', True, False, ''),
    ('ENUM_SAME_TYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_CARDINALITY', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_CPP_STRING_TYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_JAVA_UTF8_VALIDATION', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_JSTYPE', 'FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_UTF8_VALIDATION', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CC_ENABLE_ARENAS', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CC_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_CSHARP_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_GO_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_MULTIPLE_FILES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_OUTER_CLASSNAME', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_JAVA_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_OBJC_CLASS_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_OPTIMIZE_FOR', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_CLASS_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_METADATA_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PHP_NAMESPACE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_PY_GENERIC_SERVICES', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_RUBY_PACKAGE', 'FILE PACKAGE', True, False, ''),
    ('FILE_SAME_SWIFT_PREFIX', 'FILE PACKAGE', True, False, ''),
    ('RPC_NO_DELETE', 'FILE PACKAGE', True, False, ''),
    ('ENUM_VALUE_NO_DELETE', 'CSR FILE PACKAGE', True, False, ''),
    ('EXTENSION_MESSAGE_NO_DELETE', 'CSR FILE PACKAGE', True, False, ''),
    ('FIELD_NO_DELETE', 'CSR FILE PACKAGE', True, False, ''),
    ('FIELD_SAME_TYPE', 'CSR FILE PACKAGE', True, False, ''),
    ('FILE_SAME_SYNTAX', 'CSR FILE PACKAGE', True, False, ''),
    ('MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR', 'CSR FILE PACKAGE', True, False, ''),
    ('ONEOF_NO_DELETE', 'CSR FILE PACKAGE', True, False, ''),
    ('ENUM_SAME_JSON_FORMAT', 'CSR FILE PACKAGE WIRE_JSON', True, False, ''),
    ('ENUM_VALUE_SAME_NAME', 'CSR FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_JSON_NAME', 'CSR FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_NAME', 'CSR FILE PACKAGE WIRE_JSON', True, False, ''),
    ('MESSAGE_SAME_JSON_FORMAT', 'CSR FILE PACKAGE WIRE_JSON', True, False, ''),
    ('FIELD_SAME_DEFAULT', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('FIELD_SAME_ONEOF', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('FILE_SAME_PACKAGE', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('MESSAGE_SAME_REQUIRED_FIELDS', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RESERVED_ENUM_NO_DELETE', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RESERVED_MESSAGE_NO_DELETE', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_CLIENT_STREAMING', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_IDEMPOTENCY_LEVEL', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_REQUEST_TYPE', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_RESPONSE_TYPE', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('RPC_SAME_SERVER_STREAMING', 'CSR FILE PACKAGE WIRE_JSON WIRE', True, False, ''),
    ('PACKAGE_ENUM_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_EXTENSION_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_MESSAGE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('PACKAGE_SERVICE_NO_DELETE', 'PACKAGE', False, False, ''),
    ('ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED', 'CSR WIRE_JSON', False, False, ''),
    ('FIELD_NO_DELETE_UNLESS_NAME_RESERVED', 'CSR WIRE_JSON', False, False, ''),
    ('FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY', 'CSR WIRE_JSON', False, False, ''),
    ('FIELD_WIRE_JSON_COMPATIBLE_TYPE', 'CSR WIRE_JSON', False, False, ''),
    ('ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED', 'CSR WIRE_JSON WIRE', False, False, ''),
    ('FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED', 'CSR WIRE_JSON WIRE', False, False, ''),
    ('FIELD_WIRE_COMPATIBLE_CARDINALITY', 'WIRE', False, False, ''),
    ('FIELD_WIRE_COMPATIBLE_TYPE', 'WIRE', False, False, ''),
    ('MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT', '', False, True, ''),
)


def _build(rows: tuple[tuple[str, str, bool, bool, str], ...]) -> tuple[RuleSpec, ...]:
    return tuple(
        RuleSpec(
            id=rule_id,
            categories=tuple(categories.split()),
            default=default,
            purpose=_PURPOSES[rule_id],
            deprecated=deprecated,
            replacements=tuple(replacements.split()),
        )
        for rule_id, categories, default, deprecated, replacements in rows
    )


CATALOGUES: dict[str, tuple[RuleSpec, ...]] = {
    "v1beta1": _build(_V1BETA1),
    "v1": _build(_V1),
    "v2": _build(_V2),
}

# The current (v2) catalogue without deprecated rules: what `buf config ls-breaking-rules` shows.
ALL_RULES: tuple[RuleSpec, ...] = tuple(rule for rule in CATALOGUES["v2"] if not rule.deprecated)
ALL_RULE_IDS: frozenset[str] = frozenset(rule.id for rule in ALL_RULES)
# Every rule ID any catalogue version knows, deprecated ones included.
KNOWN_RULE_IDS: frozenset[str] = frozenset(rule.id for rules in CATALOGUES.values() for rule in rules)


def catalogue(version: str = DEFAULT_VERSION) -> tuple[RuleSpec, ...]:
    """The rules of one buf.yaml version (v1beta1, v1 or v2)."""
    try:
        return CATALOGUES[version]
    except KeyError:
        raise ValueError(f"unknown buf.yaml version {version!r}; expected one of {', '.join(VERSIONS)}") from None


def rules_by_id(version: str = DEFAULT_VERSION) -> dict[str, RuleSpec]:
    return {rule.id: rule for rule in catalogue(version)}


def categories(version: str = DEFAULT_VERSION) -> tuple[str, ...]:
    """Category IDs of a version, in the order buf documents them (broadest first)."""
    seen: dict[str, None] = {}
    for rule in catalogue(version):
        for category in rule.categories:
            seen.setdefault(category, None)
    order = ["FILE", "PACKAGE", "WIRE_JSON", "WIRE", "CSR"]
    return tuple(sorted(seen, key=lambda c: (order.index(c) if c in order else len(order), c)))
