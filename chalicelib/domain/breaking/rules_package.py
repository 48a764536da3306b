"""PACKAGE-level rules: elements may move between files of a package, but not leave the package."""
from __future__ import annotations

from collections.abc import Callable

from .context import Ctx, deleted_element_location
from .index import EnumIdx, FieldIdx, FileIdx, Index, MessageIdx, ServiceIdx
from .text import q


def _by_package(index: Index, attribute: str) -> dict[str, dict[str, object]]:
    """package -> nested name -> element, over all files of each package.

    Like buf, a package without any element of the kind is absent, so deleting the last enum (say) of a
    package is not reported by the PACKAGE_* rule for that kind.
    """
    result: dict[str, dict[str, object]] = {}
    for package, files in index.packages.items():
        names: dict[str, object] = {}
        for file in files:
            for name, element in getattr(file, attribute).items():
                names.setdefault(name, element)
        if names:
            result[package] = names
    return result


def _services_by_package(index: Index) -> dict[str, dict[str, ServiceIdx]]:
    result: dict[str, dict[str, ServiceIdx]] = {}
    for package, files in index.packages.items():
        names: dict[str, ServiceIdx] = {}
        for file in files:
            for service in file.services:
                names.setdefault(service.name, service)
        if names:
            result[package] = names
    return result


def _package_no_delete_of(rule: str, kind: str, attribute: str, package_wide_parent: bool) -> Callable[[Ctx], None]:
    def check(ctx: Ctx) -> None:
        old_packages = _by_package(ctx.old, attribute)
        new_packages = _by_package(ctx.new, attribute)
        new_messages = _by_package(ctx.new, "nested_messages") if package_wide_parent else {}
        for package, old_names in old_packages.items():
            new_names = new_packages.get(package)
            if new_names is None:
                continue  # the whole package went: PACKAGE_NO_DELETE reports it
            for nested_name, element in old_names.items():
                if nested_name in new_names:
                    continue
                old_element: EnumIdx | MessageIdx | FieldIdx = element  # type: ignore[assignment]
                message = f"Previously present {kind} {q(nested_name)} was deleted from package {q(package)}."
                new_file: FileIdx | None = ctx.new.files.get(old_element.file.path)
                if new_file is None:
                    ctx.add(rule, None, None, old_element.file, message)
                    continue
                parents = new_messages.get(package) if package_wide_parent else None
                file, span = deleted_element_location(new_file, nested_name, parents)  # type: ignore[arg-type]
                ctx.add(rule, file, span, old_element.file, message)

    check.__name__ = rule.lower()
    return check


package_enum_no_delete = _package_no_delete_of("PACKAGE_ENUM_NO_DELETE", "enum", "nested_enums", False)
package_extension_no_delete = _package_no_delete_of(
    "PACKAGE_EXTENSION_NO_DELETE", "extension", "nested_extensions", False)
package_message_no_delete = _package_no_delete_of("PACKAGE_MESSAGE_NO_DELETE", "message", "nested_messages", True)


def package_service_no_delete(ctx: Ctx) -> None:
    old_packages = _services_by_package(ctx.old)
    new_packages = _services_by_package(ctx.new)
    for package, old_services in old_packages.items():
        if package not in ctx.new.packages:
            continue  # the whole package went: PACKAGE_NO_DELETE reports it
        # Unlike enums, messages and extensions, buf reports a package's last service deleted too.
        new_services = new_packages.get(package, {})
        for name, service in old_services.items():
            if name in new_services:
                continue
            new_file = ctx.new.files.get(service.file.path)
            ctx.add("PACKAGE_SERVICE_NO_DELETE", new_file, None, service.file,
                    f"Previously present service {q(name)} was deleted from package {q(package)}.")


def package_no_delete(ctx: Ctx) -> None:
    for package, files in ctx.old.packages.items():
        if package not in ctx.new.packages:
            first = min(files, key=lambda file: file.path)
            ctx.add("PACKAGE_NO_DELETE", None, None, first, f"Previously present package {q(package)} was deleted.")


GLOBAL_RULES: dict[str, Callable[[Ctx], None]] = {
    "PACKAGE_ENUM_NO_DELETE": package_enum_no_delete,
    "PACKAGE_EXTENSION_NO_DELETE": package_extension_no_delete,
    "PACKAGE_MESSAGE_NO_DELETE": package_message_no_delete,
    "PACKAGE_NO_DELETE": package_no_delete,
    "PACKAGE_SERVICE_NO_DELETE": package_service_no_delete,
}
