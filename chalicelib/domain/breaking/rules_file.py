"""FILE-level rules: deleted files and top-level elements, and file options that change generated code."""
from __future__ import annotations

from collections.abc import Callable

from google.protobuf import descriptor_pb2

from .context import Ctx, deleted_element_location
from .index import FileIdx
from .text import q

FilePairRule = Callable[[Ctx, FileIdx, FileIdx], None]


def file_no_delete(ctx: Ctx) -> None:
    """Needs the whole sets: reported without a new file, against the old path."""
    for path, old_file in ctx.old.files.items():
        if path not in ctx.new.files:
            ctx.add("FILE_NO_DELETE", None, None, old_file, f"Previously present file {q(path)} was deleted.")


def enum_no_delete(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
    for nested_name in old.nested_enums:
        if nested_name not in new.nested_enums:
            file, span = deleted_element_location(new, nested_name)
            ctx.add("ENUM_NO_DELETE", file, span, old,
                    f"Previously present enum {q(nested_name)} was deleted from file.")


def extension_no_delete(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
    for nested_name in old.nested_extensions:
        if nested_name not in new.nested_extensions:
            file, span = deleted_element_location(new, nested_name)
            ctx.add("EXTENSION_NO_DELETE", file, span, old,
                    f"Previously present extension {q(nested_name)} was deleted from file.")


def message_no_delete(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
    for nested_name in old.nested_messages:
        if nested_name not in new.nested_messages:
            file, span = deleted_element_location(new, nested_name)
            ctx.add("MESSAGE_NO_DELETE", file, span, old,
                    f"Previously present message {q(nested_name)} was deleted from file.")


def service_no_delete(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
    new_names = {service.name for service in new.services}
    for service in old.services:
        if service.name not in new_names:
            ctx.add("SERVICE_NO_DELETE", new, None, old,
                    f"Previously present service {q(service.name)} was deleted from file.")


def _option_value(file: FileIdx, name: str) -> str:
    options = file.proto.options
    value = getattr(options, name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "optimize_for":
        return descriptor_pb2.FileOptions.OptimizeMode.Name(value)
    return str(value)


def _same_option(rule: str, option: str, number: int) -> FilePairRule:
    def check(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
        previous, current = _option_value(old, option), _option_value(new, option)
        if previous != current:
            ctx.add(rule, new, new.span((8, number)), old,
                    f'File option "{option}" changed from {q(previous)} to {q(current)}.')

    check.__name__ = rule.lower()
    check.__doc__ = f"File option {option} must not change: it changes the generated code's names."
    return check


FILE_OPTION_RULES: dict[str, tuple[str, int]] = {
    "FILE_SAME_CC_ENABLE_ARENAS": ("cc_enable_arenas", 31),
    "FILE_SAME_CC_GENERIC_SERVICES": ("cc_generic_services", 16),
    "FILE_SAME_CSHARP_NAMESPACE": ("csharp_namespace", 37),
    "FILE_SAME_GO_PACKAGE": ("go_package", 11),
    "FILE_SAME_JAVA_GENERIC_SERVICES": ("java_generic_services", 17),
    "FILE_SAME_JAVA_MULTIPLE_FILES": ("java_multiple_files", 10),
    "FILE_SAME_JAVA_OUTER_CLASSNAME": ("java_outer_classname", 8),
    "FILE_SAME_JAVA_PACKAGE": ("java_package", 1),
    "FILE_SAME_OBJC_CLASS_PREFIX": ("objc_class_prefix", 36),
    "FILE_SAME_OPTIMIZE_FOR": ("optimize_for", 9),
    "FILE_SAME_PHP_CLASS_PREFIX": ("php_class_prefix", 40),
    "FILE_SAME_PHP_METADATA_NAMESPACE": ("php_metadata_namespace", 44),
    "FILE_SAME_PHP_NAMESPACE": ("php_namespace", 41),
    "FILE_SAME_PY_GENERIC_SERVICES": ("py_generic_services", 18),
    "FILE_SAME_RUBY_PACKAGE": ("ruby_package", 45),
    "FILE_SAME_SWIFT_PREFIX": ("swift_prefix", 39),
}


def file_same_syntax(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
    if old.syntax != new.syntax:
        ctx.add("FILE_SAME_SYNTAX", new, new.span((12,)), old,
                f"File syntax changed from {q(old.syntax)} to {q(new.syntax)}.")


def file_same_package(ctx: Ctx, new: FileIdx, old: FileIdx) -> None:
    if old.package != new.package:
        ctx.add("FILE_SAME_PACKAGE", new, new.span((2,)), old,
                f"File package changed from {q(old.package)} to {q(new.package)}.")


GLOBAL_RULES = {"FILE_NO_DELETE": file_no_delete}

FILE_PAIR_RULES: dict[str, FilePairRule] = {
    "ENUM_NO_DELETE": enum_no_delete,
    "EXTENSION_NO_DELETE": extension_no_delete,
    "MESSAGE_NO_DELETE": message_no_delete,
    "SERVICE_NO_DELETE": service_no_delete,
    "FILE_SAME_SYNTAX": file_same_syntax,
    "FILE_SAME_PACKAGE": file_same_package,
    **{rule: _same_option(rule, option, number) for rule, (option, number) in FILE_OPTION_RULES.items()},
}
