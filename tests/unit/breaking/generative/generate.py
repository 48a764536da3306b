"""Builds a random valid schema from a `random.Random`, and repairs a mutated one back into validity.

`fixup` holds every protoc validity rule the generator and the mutations rely on (labels per syntax,
options per type, open/closed enums, extension ranges, aliases...), so mutations can be simple and
blunt: they change one thing, `fixup` makes the rest of the schema agree with protoc again.
"""
from __future__ import annotations

import random

from .model import (
    INT64S,
    MAP_KEYS,
    PACKABLE,
    SCALARS,
    WELL_KNOWN,
    Enum,
    EnumValue,
    Extend,
    External,
    Field,
    File,
    Message,
    Method,
    Oneof,
    Schema,
    Service,
    all_enums,
    all_messages,
    file_holders,
    holders,
    scope_of,
    walk_messages,
)

WORDS = ("apple", "berry", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "jade", "kite", "lumen",
         "maple", "nova", "orbit", "pearl", "quartz", "raven", "sage", "tide", "umber", "vale", "willow", "zephyr")
SYNTAXES = ("proto2", "proto3", "2023", "proto2", "proto3", "2023", "2024")
# Edition 2024 enforces naming styles and hides nested types from other files by default: opt out of both.
EDITION_2024_OPTIONS = {"features.enforce_naming_style": "STYLE_LEGACY",
                        "features.default_symbol_visibility": "EXPORT_ALL"}
REMOVED_IN_2024 = ("java_multiple_files", "java_string_check_utf8")
PACKAGES = ("gen.alpha.v1", "gen.beta", "gen.alpha.v1beta1", "gen.gamma.v2", "")
MAX = 536870911
FILE_OPTIONS = {
    "java_package": ['"com.gen.a"', '"com.gen.b"'],
    "java_outer_classname": ['"OuterA"', '"OuterB"'],
    "java_multiple_files": ["true", "false"],
    "java_generic_services": ["true", "false"],
    "java_string_check_utf8": ["true", "false"],
    "go_package": ['"example.com/gen/a"', '"example.com/gen/b;bpb"'],
    "csharp_namespace": ['"Gen.A"', '"Gen.B"'],
    "objc_class_prefix": ['"GNA"', '"GNB"'],
    "optimize_for": ["SPEED", "CODE_SIZE"],
    "cc_enable_arenas": ["true", "false"],
    "cc_generic_services": ["true", "false"],
    "py_generic_services": ["true", "false"],
    "php_namespace": ['"Gen\\\\A"', '"Gen\\\\B"'],
    "php_class_prefix": ['"GA"', '"GB"'],
    "php_metadata_namespace": ['"Gen\\\\Meta"', '"Gen\\\\Meta2"'],
    "ruby_package": ['"Gen::A"', '"Gen::B"'],
    "swift_prefix": ['"GA"', '"GB"'],
    "deprecated": ["true", "false"],
}
EDITION_FILE_FEATURES = {
    "features.field_presence": ["EXPLICIT", "IMPLICIT"],
    "features.enum_type": ["OPEN", "CLOSED"],
    "features.repeated_field_encoding": ["PACKED", "EXPANDED"],
    "features.utf8_validation": ["VERIFY", "NONE"],
    "features.message_encoding": ["LENGTH_PREFIXED", "DELIMITED"],
    "features.json_format": ["ALLOW", "LEGACY_BEST_EFFORT"],
    "features.(pb.cpp).string_type": ["STRING", "CORD", "VIEW"],
    "features.(pb.java).utf8_validation": ["DEFAULT", "VERIFY"],
}


class Names:
    """Fresh identifiers, unique across the whole schema (so moves and renames never collide)."""

    def __init__(self, rng: random.Random, start: int = 0) -> None:
        self.rng, self.counter = rng, start

    def _next(self) -> tuple[str, int]:
        self.counter += 1
        return self.rng.choice(WORDS), self.counter

    def message(self) -> str:
        word, n = self._next()
        return f"{word.capitalize()}{n}"

    def field(self) -> str:
        word, n = self._next()
        return f"{word}_{n}"

    def enum_value(self, enum_name: str) -> str:
        word, n = self._next()
        return f"{enum_name.upper()}_{word.upper()}_{n}"

    def json(self) -> str:
        word, n = self._next()
        return f"j{word.capitalize()}{n}"


def is_editions(file: File) -> bool:
    return file.syntax[0].isdigit()


def enum_closed(enum: Enum, file: File) -> bool:
    if file.syntax == "proto2":
        return True
    if file.syntax == "proto3":
        return False
    return enum.options.get("features.enum_type", file.options.get("features.enum_type", "OPEN")) == "CLOSED"


def presence(field: Field, file: File) -> str:
    if file.syntax == "proto3":
        return "EXPLICIT" if field.label == "optional" or field.type == "message" else "IMPLICIT"
    if file.syntax == "proto2":
        return "LEGACY_REQUIRED" if field.label == "required" else "EXPLICIT"
    return field.options.get("features.field_presence", file.options.get("features.field_presence", "EXPLICIT"))


def scalar_default(rng: random.Random, type_: str) -> str:
    """A default value for a scalar type, in one of the spellings protoc accepts."""
    if type_ == "bool":
        return rng.choice(["true", "false"])
    if type_ == "string":
        return rng.choice(['"hello"', '"x\\ty"', '""', '"caf\\303\\251"', '"\\x41B"', '"AB"', '"\\"q\\""'])
    if type_ == "bytes":
        return rng.choice(['"\\001\\002"', '"\\x01\\x02"', '"b"', '"\\377"', '""'])
    if type_ in ("double", "float"):
        return rng.choice(["1.5", "-2", "inf", "-inf", "nan", "1e10", "1E+10", "10000000000", "0.25", ".25",
                           "-0", "-0.0", "0", "3.4028235e38", "1e-45", "0.1", "16777217"])
    unsigned = type_.startswith("u") or type_.startswith("fixed")
    wide = "64" in type_
    values = [0, 1, 42, 0x7FFFFFFF] + ([4000000000, 2**63 - 1] if wide else []) + ([] if unsigned else [-1, -123456])
    if unsigned and wide:
        values.append(2**64 - 1)
    if unsigned and not wide:
        values.append(2**32 - 1)
    if not unsigned:
        values.append(-(2**63) if wide else -(2**31))
    value = rng.choice(values)
    spelling = rng.random()
    if spelling < 0.2 and value >= 0:
        return hex(value)
    if spelling < 0.3 and value > 0:
        return "0" + oct(value)[2:]
    if spelling < 0.35 and value < 0:
        return "-" + hex(-value)
    return str(value)


def default_ok(field: Field) -> bool:
    value = field.default or ""
    if field.type == "enum":
        return field.ref is not None and any(v.name == value for v in field.ref.values)  # type: ignore[union-attr]
    if field.type in ("message", "map", "group"):
        return False
    if field.type == "bool":
        return value in ("true", "false")
    if field.type in ("string", "bytes"):
        return value.startswith('"')
    if field.type in ("double", "float"):
        try:
            float(value)
        except ValueError:
            return False
        return "x" not in value.lower()
    try:
        number = int(value, 0) if not value.lstrip("-").startswith("0") or value.lstrip("-") in ("0", "") \
            or value.lstrip("-").startswith("0x") else int(value, 8)
    except ValueError:
        return False
    if field.type.startswith("u") or field.type.startswith("fixed"):
        return 0 <= number < (2**64 if "64" in field.type else 2**32)
    return -(2**31) <= number < 2**31 or "64" in field.type


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = Names(rng)
        self.messages: list[Message] = []
        self.enums: list[Enum] = []

    # --- schema -----------------------------------------------------------------------------------
    def schema(self) -> Schema:
        rng = self.rng
        schema = Schema()
        packages = rng.sample(PACKAGES, rng.randint(1, 3))
        for index in range(rng.randint(2, 5)):
            package = rng.choice(packages)
            directory = package.replace(".", "/") if package else "root"
            syntax = rng.choice(SYNTAXES)
            file = File(path=f"{directory}/f{index}.proto", package=package, syntax=syntax)
            schema.files.append(file)
            self.fill_file(file)
        fixup(schema)
        return schema

    def fill_file(self, file: File) -> None:
        rng = self.rng
        for key in rng.sample(sorted(FILE_OPTIONS), rng.randint(0, 4)):
            file.options[key] = rng.choice(FILE_OPTIONS[key])
        if is_editions(file) and rng.random() < 0.5:
            for key in rng.sample(sorted(EDITION_FILE_FEATURES), rng.randint(1, 2)):
                file.options[key] = rng.choice(EDITION_FILE_FEATURES[key])
        for _ in range(rng.randint(0, 2)):
            file.enums.append(self.enum(file))
        for _ in range(rng.randint(1, 4)):
            file.messages.append(self.message(file, 0))
        if file.syntax != "proto3":
            for _ in range(rng.randint(0, 2)):
                extend = self.extend(file)
                if extend is not None:
                    file.extends.append(extend)
        for _ in range(rng.randint(0, 2)):
            file.services.append(self.service())

    # --- enums ------------------------------------------------------------------------------------
    def enum(self, file: File) -> Enum:
        rng = self.rng
        enum = Enum(name=self.names.message())
        if is_editions(file) and rng.random() < 0.3:
            enum.options["features.enum_type"] = rng.choice(["OPEN", "CLOSED"])
        closed = enum_closed(enum, file)
        number = 0 if not closed or rng.random() < 0.6 else rng.choice([1, -3, 5])
        for _ in range(rng.randint(1, 5)):
            enum.values.append(EnumValue(self.names.enum_value(enum.name), number))
            number += rng.choice([1, 1, 2, 5])
        if rng.random() < 0.25:
            enum.options["allow_alias"] = "true"
            enum.values.append(EnumValue(self.names.enum_value(enum.name), rng.choice(enum.values).number))
        if rng.random() < 0.3:
            top = max(v.number for v in enum.values)
            enum.reserved_ranges.append((top + 10, top + rng.choice([10, 12, 20])))
        if rng.random() < 0.3:
            enum.reserved_names.append(self.names.enum_value(enum.name))
        if rng.random() < 0.2:
            enum.options["deprecated"] = "true"
        if rng.random() < 0.2:
            key = "features.json_format" if is_editions(file) else "deprecated_legacy_json_field_conflicts"
            enum.options[key] = "LEGACY_BEST_EFFORT" if is_editions(file) else "true"
        if rng.random() < 0.15:
            rng.choice(enum.values).options["deprecated"] = "true"
        self.enums.append(enum)
        return enum

    # --- messages ---------------------------------------------------------------------------------
    def message(self, file: File, depth: int) -> Message:
        rng = self.rng
        message = Message(name=self.names.message())
        self.messages.append(message)
        # No MessageSets (message_set_wire_format): buf refuses any image that holds one ("a legacy proto1
        # feature that is no longer supported"), so there is nothing to compare.
        if depth < 2 and rng.random() < 0.3:
            message.enums.append(self.enum(file))
        if depth < 2 and rng.random() < 0.3:
            message.messages.append(self.message(file, depth + 1))
        numbers = iter(sorted(rng.sample(range(1, 60), 30)))
        for _ in range(rng.randint(0, 7)):
            message.items.append(self.field(file, next(numbers)))
        if file.syntax == "proto2" and depth < 2 and rng.random() < 0.15:
            body = self.message(file, depth + 1)
            body.extension_ranges, body.extends = [], []
            message.messages.append(body)
            message.items.append(Field(name=body.name.lower(), number=next(numbers), type="group", ref=body,
                                       label=rng.choice(["optional", "repeated", "required"])))
        for _ in range(rng.choice([0, 0, 1, 2])):
            oneof = Oneof(name=self.names.field())
            for _ in range(rng.randint(1, 3)):
                field = self.field(file, next(numbers), in_oneof=True)
                oneof.fields.append(field)
            message.items.insert(rng.randint(0, len(message.items)), oneof)
        if rng.random() < 0.3:
            message.reserved_ranges.append(rng.choice([(70, 70), (71, 75), (80, 89)]))
        if rng.random() < 0.3:
            message.reserved_names.append(self.names.field())
        if file.syntax != "proto3" and rng.random() < 0.35:
            message.extension_ranges.append(rng.choice([(100, 199), (1000, MAX), (500, 500)]))
        if file.syntax != "proto3" and rng.random() < 0.15:
            extend = self.extend(file)
            if extend is not None:
                message.extends.append(extend)
        if rng.random() < 0.15:
            message.options["deprecated"] = "true"
        if rng.random() < 0.15:
            message.options["no_standard_descriptor_accessor"] = rng.choice(["true", "false"])
        if rng.random() < 0.15:
            key = "features.json_format" if is_editions(file) else "deprecated_legacy_json_field_conflicts"
            message.options[key] = "LEGACY_BEST_EFFORT" if is_editions(file) else "true"
        return message

    def field_type(self, field: Field) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            field.type, field.ref = "message", rng.choice(WELL_KNOWN)
        elif roll < 0.2 and self.messages:
            field.type, field.ref = "message", rng.choice(self.messages)
        elif roll < 0.35 and self.enums:
            field.type, field.ref = "enum", rng.choice(self.enums)
        else:
            field.type, field.ref = rng.choice(SCALARS), None

    def field(self, file: File, number: int, in_oneof: bool = False, extension: bool = False) -> Field:
        rng = self.rng
        field = Field(name=self.names.field(), number=number, type="int32")
        if not in_oneof and not extension and rng.random() < 0.12:
            field.type, field.map_key = "map", rng.choice(MAP_KEYS)
            roll = rng.random()
            if roll < 0.25 and self.messages:
                field.map_value, field.ref = "message", rng.choice(self.messages)
            elif roll < 0.4 and self.enums:
                field.map_value, field.ref = "enum", rng.choice(self.enums)
            else:
                field.map_value = rng.choice(SCALARS)
        else:
            self.field_type(field)
            if not in_oneof:
                field.label = rng.choice(["", "optional", "optional", "repeated", "required"])
        self.field_options(file, field)
        if not extension and rng.random() < 0.1:
            field.json_name = self.names.json()
        if rng.random() < 0.25 and field.type not in ("map", "message"):
            if field.type == "enum":
                field.default = rng.choice(field.ref.values).name  # type: ignore[union-attr]
            else:
                field.default = scalar_default(rng, field.type)
        return field

    def field_options(self, file: File, field: Field) -> None:
        rng = self.rng
        options = field.options
        if rng.random() < 0.1:
            options["deprecated"] = "true"
        if field.type in INT64S and rng.random() < 0.3:
            options["jstype"] = rng.choice(["JS_STRING", "JS_NUMBER", "JS_NORMAL"])
        if is_editions(file):
            if rng.random() < 0.3:
                options["features.field_presence"] = rng.choice(["EXPLICIT", "IMPLICIT", "LEGACY_REQUIRED"])
            if rng.random() < 0.3:
                options["features.repeated_field_encoding"] = rng.choice(["PACKED", "EXPANDED"])
            if field.type == "string" and rng.random() < 0.3:
                options["features.utf8_validation"] = rng.choice(["VERIFY", "NONE"])
            if field.type == "message" and rng.random() < 0.3:
                options["features.message_encoding"] = "DELIMITED"
            if field.type in ("string", "bytes") and rng.random() < 0.2:
                options["features.(pb.cpp).string_type"] = rng.choice(["STRING", "CORD", "VIEW"])
            if field.type == "string" and rng.random() < 0.2:
                options["features.(pb.java).utf8_validation"] = rng.choice(["DEFAULT", "VERIFY"])
        else:
            if rng.random() < 0.3:
                options["packed"] = rng.choice(["true", "false"])
            if field.type in ("string", "bytes") and rng.random() < 0.25:
                options["ctype"] = rng.choice(["STRING", "CORD", "STRING_PIECE"])

    def extend(self, file: File) -> Extend | None:
        candidates = [m for m in self.messages if m.extension_ranges]
        if not candidates:
            return None
        extendee = self.rng.choice(candidates)
        extend = Extend(extendee=extendee)
        low, high = self.rng.choice(extendee.extension_ranges)
        for number in sorted({self.rng.randint(low, min(high, low + 50)) for _ in range(self.rng.randint(1, 3))}):
            extend.fields.append(self.field(file, number, extension=True))
        return extend

    def service(self) -> Service:
        rng = self.rng
        service = Service(name=self.names.message())
        if rng.random() < 0.15:
            service.options["deprecated"] = "true"
        for _ in range(rng.randint(0, 4)):
            method = Method(name=self.names.message(), input=rng.choice(self.messages),
                            output=rng.choice(self.messages) if rng.random() < 0.85 else rng.choice(WELL_KNOWN),
                            client_streaming=rng.random() < 0.25,
                            server_streaming=rng.random() < 0.25)
            if rng.random() < 0.25:
                method.options["idempotency_level"] = rng.choice(["IDEMPOTENCY_UNKNOWN", "NO_SIDE_EFFECTS",
                                                                  "IDEMPOTENT"])
            if rng.random() < 0.1:
                method.options["deprecated"] = "true"
            service.methods.append(method)
        return service


# --- validity ------------------------------------------------------------------------------------
def fixup(schema: Schema) -> None:
    """Make a (mutated) schema valid for protoc again, changing as little as possible."""
    scope = scope_of(schema)
    live = scope.full_name
    for external in _externals(schema):
        live[id(external)] = external.full_name
    for file in schema.files:
        _fix_file_options(file)
    for enum in all_enums(schema):
        _fix_enum(enum, scope.file_of[id(enum)])
    _fix_groups(schema)
    closed = {id(enum): enum_closed(enum, scope.file_of[id(enum)]) for enum in all_enums(schema)}
    extension_numbers: dict[int, set[int]] = {}
    for file in schema.files:
        for message in walk_messages(file.messages):
            _fix_message(message, file, live, closed)
        for holder in file_holders(file):
            kept: list[Extend] = []
            for extend in holder.extends:
                if id(extend.extendee) not in live or file.syntax == "proto3":
                    continue
                extendee_file = scope.file_of[id(extend.extendee)]
                if extendee_file.syntax == "proto3" or not extend.extendee.extension_ranges:
                    continue
                used = extension_numbers.setdefault(id(extend.extendee), set())
                extend.fields = [f for f in extend.fields
                                 if any(a <= f.number <= b for a, b in extend.extendee.extension_ranges)
                                 and f.number not in used]
                for field in extend.fields:
                    used.add(field.number)
                    _fix_field(field, file, live, closed, "extension")
                if extend.fields:
                    kept.append(extend)
            holder.extends = kept
    messages = all_messages(schema)
    for file in schema.files:
        for service in file.services:
            kept_methods = []
            for method in service.methods:
                if id(method.input) not in live:
                    method.input = messages[0] if messages else method.input
                if id(method.output) not in live:
                    method.output = messages[-1] if messages else method.output
                if id(method.input) in live and id(method.output) in live:
                    kept_methods.append(method)
            service.methods = kept_methods


def _fix_groups(schema: Schema) -> None:
    """A group field needs a proto2 file and its body nested in the field's message; else it becomes a
    message field (in editions, a delimited one: still a group on the wire and in the descriptor)."""
    for file in schema.files:
        for message in walk_messages(file.messages):
            message.group = False
    for file in schema.files:
        for message in walk_messages(file.messages):
            for field in message.all_fields():
                if field.type != "group":
                    continue
                body = field.ref
                oneof = any(isinstance(i, Oneof) and field in i.fields for i in message.items)
                if (file.syntax == "proto2" and isinstance(body, Message) and not body.group and not oneof
                        and any(m is body for m in message.messages)):
                    body.group = True
                    field.name, field.json_name, field.default = body.name.lower(), None, None
                    field.label = field.label or "optional"
                else:
                    field.type = "message"
                    if is_editions(file):
                        field.options["features.message_encoding"] = "DELIMITED"


def _externals(schema: Schema) -> list[External]:
    found: list[External] = []
    for message in all_messages(schema):
        found += [f.ref for f in message.all_fields() if isinstance(f.ref, External)]
    for file in schema.files:
        for service in file.services:
            found += [x for m in service.methods for x in (m.input, m.output) if isinstance(x, External)]
    for holder in holders(schema):
        found += [f.ref for e in holder.extends for f in e.fields if isinstance(f.ref, External)]
    return found


def _fix_file_options(file: File) -> None:
    if file.syntax == "2024":
        for key in REMOVED_IN_2024:
            file.options.pop(key, None)
        file.options.update(EDITION_2024_OPTIONS)
    else:
        for key in EDITION_2024_OPTIONS:
            file.options.pop(key, None)
    for key in list(file.options):
        editions_only = key.startswith("features.")
        if editions_only != is_editions(file) and (editions_only or key == "java_string_check_utf8"):
            del file.options[key]


def _fix_enum(enum: Enum, file: File) -> None:
    editions = is_editions(file)
    for key in list(enum.options):
        if key.startswith("features.") and not editions or key == "deprecated_legacy_json_field_conflicts" and editions:
            del enum.options[key]
    if not enum.values:
        enum.values.append(EnumValue(f"{enum.name.upper()}_UNSPECIFIED", 0))
    if not enum_closed(enum, file) and enum.values[0].number != 0:
        zero = next((v for v in enum.values if v.number == 0), None)
        if zero is not None:
            enum.values.remove(zero)
            enum.values.insert(0, zero)
        else:
            enum.values.insert(0, EnumValue(f"{enum.name.upper()}_ZERO", 0))
    numbers = [v.number for v in enum.values]
    if len(set(numbers)) != len(numbers):
        enum.options["allow_alias"] = "true"
    else:
        enum.options.pop("allow_alias", None)
    names = {v.name for v in enum.values}
    enum.reserved_ranges = [(a, b) for a, b in enum.reserved_ranges if not any(a <= n <= b for n in numbers)]
    enum.reserved_names = [n for n in enum.reserved_names if n not in names]


def _fix_message(message: Message, file: File, live: dict[int, str], closed: dict[int, bool]) -> None:
    editions = is_editions(file)
    for key in list(message.options):
        if key.startswith("features.") and not editions or key == "deprecated_legacy_json_field_conflicts" and editions:
            del message.options[key]
    if file.syntax == "proto3":
        message.extension_ranges = []
    message.items = [i for i in message.items if not isinstance(i, Oneof) or i.fields]
    used: set[int] = set()
    names: set[str] = set()
    blocked = message.reserved_ranges + message.extension_ranges
    for item in message.items:
        for field in item.fields if isinstance(item, Oneof) else [item]:
            reserved = any(a <= field.number <= b for a, b in blocked) or 19000 <= field.number <= 19999
            if field.number in used or reserved:
                field.number = next(n for n in range(1, 20000) if n not in used
                                    and not any(a <= n <= b for a, b in blocked))
            used.add(field.number)
            names.add(field.name)
    message.reserved_names = [n for n in message.reserved_names if n not in names]
    for item in message.items:
        if isinstance(item, Oneof):
            for field in item.fields:
                _fix_field(field, file, live, closed, "oneof")
        else:
            _fix_field(item, file, live, closed, "field")


def _fix_field(field: Field, file: File, live: dict[int, str], closed_enums: dict[int, bool], context: str) -> None:
    syntax, editions = file.syntax, is_editions(file)
    if field.ref is not None and id(field.ref) not in live:
        field.ref = None
        if field.type == "map":
            field.map_value = "string"
        else:
            field.type = "string"
    if field.type == "map" and context != "field":
        field.type = field.map_value or "string"
    # labels
    if context == "oneof" or field.type == "map":
        field.label = ""
    elif syntax == "proto2":
        if not field.label or context == "extension" and field.label == "required":
            field.label = "optional"
    elif syntax == "proto3":
        if field.label == "required":
            field.label = "optional"
    elif field.label == "required":
        field.label = ""
        field.options["features.field_presence"] = "LEGACY_REQUIRED"
    elif field.label == "optional":
        field.label = ""
    repeated = field.label == "repeated"
    # enum openness (a proto3 or implicit-presence field, and a map value, need an open enum)
    if isinstance(field.ref, Enum):
        closed = closed_enums[id(field.ref)]
        if field.type == "map":
            if closed or field.ref.values[0].number != 0:
                field.map_value, field.ref = "int32", None
        elif closed and (syntax == "proto3" or editions and not repeated and context == "field"
                         and presence(field, file) == "IMPLICIT"
                         # buf's compiler (not protoc) also rejects a closed-enum extension in such a file
                         or editions and context == "extension"
                         and file.options.get("features.field_presence") == "IMPLICIT"):
            field.type, field.ref = "int32", None
    # options per type
    options = field.options
    packable = repeated and (field.type in PACKABLE or field.type == "enum")
    rules = {
        "packed": not editions and packable,
        "jstype": field.type in INT64S,
        "ctype": not editions and field.type in ("string", "bytes"),
        "features.field_presence": editions and not repeated and field.type != "map" and context == "field",
        "features.repeated_field_encoding": editions and packable,
        "features.utf8_validation": editions and (field.type == "string"),
        "features.message_encoding": editions and field.type == "message",
        "features.(pb.cpp).string_type": editions and field.type in ("string", "bytes"),
        "features.(pb.java).utf8_validation": editions and field.type == "string",
        "deprecated": True,
    }
    for key in list(options):
        if not rules.get(key, False):
            del options[key]
    if field.type == "message" and options.get("features.field_presence") == "IMPLICIT":
        del options["features.field_presence"]
    if context == "extension":
        field.json_name = None
    if field.default is not None:
        allowed = (not repeated and context == "field" and field.type != "map"
                   and (syntax == "proto2" or editions and presence(field, file) != "IMPLICIT"))
        if not allowed or not default_ok(field):
            field.default = None
