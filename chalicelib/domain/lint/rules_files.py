"""File, package and import rules: layout, package names and options, syntax, imports."""
from __future__ import annotations

from collections.abc import Iterator

from .casing import package_stability, to_lower_snake_case
from .context import Context, Hit, Rule, quoted
from .source import F_DEPENDENCY, F_OPTIONS, F_PACKAGE, LintFile, directory
from .usage import ImportUsage


def _by(files: list[LintFile], key: str) -> dict[str, list[LintFile]]:
    groups: dict[str, list[LintFile]] = {}
    for file in files:
        groups.setdefault(file.package if key == "package" else directory(file.path), []).append(file)
    return groups


def directory_same_package(context: Context) -> Iterator[Hit]:
    for dir_path, files in _by(context.targets, "dir").items():
        packages = {file.package for file in files}
        if len(packages) < 2:
            continue
        named = sorted(packages - {""})
        if "" in packages:
            prefix = (f"Multiple packages {quoted(','.join(named))} and file with no package" if len(named) > 1
                      else f"Package {quoted(','.join(named))} and file with no package")
        else:
            prefix = f"Multiple packages {quoted(','.join(named))}"
        for file in files:
            yield file, file.at((F_PACKAGE,)), f"{prefix} detected within directory {quoted(dir_path)}."


def package_same_directory(context: Context) -> Iterator[Hit]:
    for package, files in _by(context.targets, "package").items():
        dirs = sorted({directory(file.path) for file in files})
        if len(dirs) > 1:
            for file in files:
                yield file, file.at((F_PACKAGE,)), (
                    f"Multiple directories {quoted(','.join(dirs))} contain files with package {quoted(package)}.")


def package_defined(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        if not file.package:
            yield file, None, "Files must have a package defined."


def package_directory_match(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        if file.package:
            expected, actual = file.package.replace(".", "/"), directory(file.path)
            if expected != actual:
                yield file, file.at((F_PACKAGE,)), (
                    f'Files with package {quoted(file.package)} must be within a directory "{expected}" relative '
                    f'to root but were in directory "{actual}".')


def package_lower_snake_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        if file.package:
            expected = ".".join(to_lower_snake_case(part) for part in file.package.split("."))
            if file.package != expected:
                yield file, file.at((F_PACKAGE,)), (
                    f"Package name {quoted(file.package)} should be lower_snake.case, such as {quoted(expected)}.")


def package_version_suffix(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        if file.package and package_stability(file.package) is None:
            yield file, file.at((F_PACKAGE,)), (
                f"Package name {quoted(file.package)} should be suffixed with a correctly formed version, such as "
                f"{quoted(file.package + '.v1')}.")


def _same_option(name: str, number: int) -> Rule:
    """PACKAGE_SAME_<OPTION>: every file of a package sets the file option alike (unset counts)."""

    def rule(context: Context) -> Iterator[Hit]:
        for package, files in _by(context.targets, "package").items():
            def value(file: LintFile) -> str:
                options = file.proto.options
                if not options.HasField(name):  # type: ignore[arg-type]  # one of the option names below
                    return ""
                option = getattr(options, name)
                return ("true" if option else "false") if isinstance(option, bool) else str(option)

            values = {value(file) for file in files}
            if len(values) < 2:
                continue
            shown = quoted(",".join(sorted(values - {""})))
            for file in files:
                if "" in values:
                    message = (f"Files in package {quoted(package)} have both values {shown} and no value for option "
                               f"{quoted(name)} and all values must be equal.")
                else:
                    message = (f"Files in package {quoted(package)} have multiple values {shown} for option "
                               f"{quoted(name)} and all values must be equal.")
                yield file, file.at((F_OPTIONS, number)), message
    return rule


package_same_csharp_namespace = _same_option("csharp_namespace", 37)
package_same_go_package = _same_option("go_package", 11)
package_same_java_multiple_files = _same_option("java_multiple_files", 10)
package_same_java_package = _same_option("java_package", 1)
package_same_php_namespace = _same_option("php_namespace", 41)
package_same_ruby_package = _same_option("ruby_package", 45)
package_same_swift_prefix = _same_option("swift_prefix", 39)


def file_lower_snake_case(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        base = file.path.rsplit("/", 1)[-1]
        ext = "." + base.rsplit(".", 1)[-1] if "." in base else ""
        stem = base[: len(base) - len(ext)]
        expected = to_lower_snake_case(stem)
        if stem != expected:
            yield file, None, (
                f'Filename {quoted(base)} should be lower_snake_case{ext}, such as "{expected}{ext}".')


def syntax_specified(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        if file.syntax_unspecified is None and not context.infer_unmarked:
            continue
        if file.syntax_unspecified if file.syntax_unspecified is not None else not file.syntax_specified():
            yield file, None, ('Files must have a syntax explicitly specified. If no syntax is specified, the file '
                               'defaults to "proto2".')


def import_no_public(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for index in file.proto.public_dependency:
            name = file.proto.dependency[index]
            yield file, file.at((F_DEPENDENCY, index)), f"Import {quoted(name)} must not be public."


def import_no_weak(context: Context) -> Iterator[Hit]:
    for file in context.targets:
        for index in file.proto.weak_dependency:
            name = file.proto.dependency[index]
            yield file, file.at((F_DEPENDENCY, index)), f"Import {quoted(name)} must not be weak."


def import_used(context: Context) -> Iterator[Hit]:
    usage: ImportUsage | None = None
    for file in context.targets:
        if file.unused_dependencies is not None:  # what buf's compiler recorded in the image
            unused = sorted(file.unused_dependencies)
        elif context.infer_unmarked:
            usage = usage or ImportUsage(context.files)
            used = usage.used_imports(file)
            public = set(file.proto.public_dependency)
            unused = [index for index, name in enumerate(file.proto.dependency)
                      if index not in public and name not in used and name in context.files]  # absent: unknown
        else:
            continue
        for index in unused:
            name = file.proto.dependency[index]
            yield file, file.at((F_DEPENDENCY, index)), f"Import {quoted(name)} is unused."


def _cycle(package: str, graph: dict[str, dict[str, list[tuple[LintFile, int]]]], seen: set[str],
           trail: list[str]) -> list[str]:
    """buf's getImportCycleIfExists: a cycle back to trail[0] through `package`, else []."""
    trail = trail + [package]
    if package in seen:
        return trail if trail[0] == trail[-1] else []
    seen.add(package)
    for imported in sorted(graph.get(package, {})):
        if imported:
            found = _cycle(imported, graph, seen, trail)
            if found:
                return found
    seen.discard(package)
    return []


def package_no_import_cycle(context: Context) -> Iterator[Hit]:
    graph: dict[str, dict[str, list[tuple[LintFile, int]]]] = {}
    for file in context.files.values():
        for index, name in enumerate(file.proto.dependency):
            dependency = context.files.get(name)
            if dependency is not None and dependency.package != file.package:
                graph.setdefault(file.package, {}).setdefault(dependency.package, []).append((file, index))
    for package in sorted(graph):
        if not package:
            continue
        for imported_package, file_imports in sorted(graph[package].items()):
            cycle = _cycle(imported_package, graph, {package}, [package]) if imported_package else []
            if cycle:
                for file, index in file_imports:
                    if file.target:
                        yield file, file.at((F_DEPENDENCY, index)), f"Package import cycle: {' -> '.join(cycle)}"


def stable_package_no_import_unstable(context: Context) -> Iterator[Hit]:
    targets = {file.path: file for file in context.targets}
    for file in context.targets:
        if package_stability(file.package) != "stable":
            continue
        for index, name in enumerate(file.proto.dependency):
            imported = targets.get(name)
            if imported is not None and package_stability(imported.package) == "unstable":
                yield file, file.at((F_DEPENDENCY, index)), (
                    f"This file is in stable package {quoted(file.package)}, so it should not depend on "
                    f"{quoted(name)} from unstable package {quoted(imported.package)}.")
