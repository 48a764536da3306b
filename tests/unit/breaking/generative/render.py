"""Renders a schema model to .proto sources (one text per file path); imports are computed from references."""
from __future__ import annotations

import random

from .model import Enum, Extend, External, Field, File, Message, Method, Oneof, Schema, Scope, Service, scope_of

FEATURE_IMPORTS = {"(pb.cpp)": "google/protobuf/cpp_features.proto", "(pb.java)": "google/protobuf/java_features.proto"}


def render(schema: Schema, style: random.Random | None = None) -> dict[str, str]:
    """The .proto texts; with `style`, in a random layout (comments, blank lines, options over several
    lines), which moves source positions around without changing the descriptors."""
    scope = scope_of(schema)
    return {file.path: _File(file, scope, style).text() for file in schema.files}


def _ranges(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a} to {'max' if b == 536870911 else b}" for a, b in ranges)


class _File:
    def __init__(self, file: File, scope: Scope, style: random.Random | None = None) -> None:
        self.file, self.scope, self.style = file, scope, style
        self.imports: set[str] = set()
        self.lines: list[str] = []

    def chance(self, probability: float) -> bool:
        return self.style is not None and self.style.random() < probability

    def options_inline(self, options: dict[str, str]) -> str:
        """` [a = 1, b = 2]`, or with a style now and then over several lines (continuations marked \\n)."""
        if not options:
            return ""
        if not self.chance(0.3):
            return " [" + ", ".join(f"{k} = {v}" for k, v in options.items()) + "]"
        parts = [f"{k} =\n{v}" if self.chance(0.3) else f"{k} = {v}" for k, v in options.items()]
        return " [\n" + ",\n".join(parts) + "\n]"

    def ref(self, target: Message | Enum | External) -> str:
        if isinstance(target, External):
            self.imports.add(target.path)
            return "." + target.full_name
        other = self.scope.file_of[id(target)]
        if other is not self.file:
            self.imports.add(other.path)
        return "." + self.scope.full_name[id(target)]

    def out(self, depth: int, line: str) -> None:
        if self.chance(0.08):
            self.lines.append("")
        if self.chance(0.1):
            self.lines.append("  " * depth + "// a leading comment")
        if self.chance(0.04):
            self.lines.append("  " * depth + "/* a block\n   comment */")
        first, *rest = line.split("\n")
        pieces = ["  " * depth + first] + ["  " * (depth + 2) + piece for piece in rest]
        if self.chance(0.08):
            pieces[-1] += "  // trailing"
        self.lines.extend(pieces)

    def text(self) -> str:
        file = self.file
        for key, value in file.options.items():
            self.out(0, f"option {key} = {value};")
        for enum in file.enums:
            self.enum(enum, 0)
        for message in file.messages:
            self.message(message, 0)
        for extend in file.extends:
            self.extend(extend, 0)
        for service in file.services:
            self.service(service)
        body = "\n".join(self.lines)
        for marker, path in FEATURE_IMPORTS.items():
            if marker in body:
                self.imports.add(path)
        head = [f'edition = "{file.syntax}";' if file.syntax[0].isdigit() else f'syntax = "{file.syntax}";']
        if file.package:
            head.append(f"package {file.package};")
        head += [f'import "{path}";' for path in sorted(self.imports)]
        return "\n".join(head) + "\n" + body + "\n"

    def field(self, field: Field, depth: int, in_oneof: bool = False) -> None:
        options = dict(field.options)
        if field.json_name is not None:
            options["json_name"] = f'"{field.json_name}"'
        if field.default is not None:
            options["default"] = field.default
        if field.type == "group":
            assert isinstance(field.ref, Message)
            label = "" if in_oneof else field.label + " "
            head = f"{label}group {field.ref.name} = {field.number}{self.options_inline(options)}"
            self.message(field.ref, depth, head)
            return
        if field.type == "map":
            value = self.ref(field.ref) if field.ref is not None else field.map_value
            type_text = f"map<{field.map_key}, {value}>"
            label = ""
        else:
            type_text = self.ref(field.ref) if field.ref is not None else field.type
            label = "" if in_oneof or not field.label else field.label + " "
        self.out(depth, f"{label}{type_text} {field.name} = {field.number}{self.options_inline(options)};")

    def reserved(self, ranges: list[tuple[int, int]], names: list[str], depth: int) -> None:
        if ranges:
            self.out(depth, f"reserved {_ranges(ranges)};")
        if names:
            editions = self.file.syntax[0].isdigit()
            self.out(depth, "reserved " + ", ".join(n if editions else f'"{n}"' for n in names) + ";")

    def message(self, message: Message, depth: int, head: str = "") -> None:
        self.out(depth, (head or f"message {message.name}") + " {")
        inner = depth + 1
        for key, value in message.options.items():
            self.out(inner, f"option {key} = {value};")
        self.reserved(message.reserved_ranges, message.reserved_names, inner)
        if message.extension_ranges:
            self.out(inner, f"extensions {_ranges(message.extension_ranges)};")
        for item in message.items:
            if isinstance(item, Oneof):
                self.out(inner, f"oneof {item.name} {{")
                for field in item.fields:
                    self.field(field, inner + 1, in_oneof=True)
                self.out(inner, "}")
            else:
                self.field(item, inner)
        for enum in message.enums:
            self.enum(enum, inner)
        for nested in message.messages:
            if not nested.group:  # a group's body is written with its field
                self.message(nested, inner)
        for extend in message.extends:
            self.extend(extend, inner)
        self.out(depth, "}")

    def enum(self, enum: Enum, depth: int) -> None:
        self.out(depth, f"enum {enum.name} {{")
        for key, value in enum.options.items():
            self.out(depth + 1, f"option {key} = {value};")
        self.reserved(enum.reserved_ranges, enum.reserved_names, depth + 1)
        for enum_value in enum.values:
            self.out(depth + 1, f"{enum_value.name} = {enum_value.number}{self.options_inline(enum_value.options)};")
        self.out(depth, "}")

    def extend(self, extend: Extend, depth: int) -> None:
        self.out(depth, f"extend {self.ref(extend.extendee)} {{")
        for field in extend.fields:
            self.field(field, depth + 1)
        self.out(depth, "}")

    def method(self, method: Method) -> str:
        request = ("stream " if method.client_streaming else "") + self.ref(method.input)
        response = ("stream " if method.server_streaming else "") + self.ref(method.output)
        head = f"rpc {method.name}({request}) returns ({response})"
        if not method.options:
            return head + ";"
        return head + " { " + " ".join(f"option {k} = {v};" for k, v in method.options.items()) + " }"

    def service(self, service: Service) -> None:
        self.out(0, f"service {service.name} {{")
        for key, value in service.options.items():
            self.out(1, f"option {key} = {value};")
        for method in service.methods:
            self.out(1, self.method(method))
        self.out(0, "}")
