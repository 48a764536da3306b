"""Random mutations of a schema: each changes one thing a user might change between two versions.

A mutation may leave the schema invalid (a dangling type, a label the syntax forbids); `fixup` repairs
that afterwards. Each returns a short description, kept with a failing seed to help minimise it.
"""
from __future__ import annotations

import random
from collections.abc import Callable

from .generate import EDITION_FILE_FEATURES, FILE_OPTIONS, PACKAGES, SYNTAXES, Generator, Names, fixup, is_editions
from .model import (
    INT64S,
    MAP_KEYS,
    SCALARS,
    Enum,
    EnumValue,
    Field,
    File,
    Message,
    Oneof,
    Schema,
    all_enums,
    all_messages,
    file_holders,
    holders,
    walk_messages,
)

Mutation = Callable[[Schema, random.Random, Names], str]


def _message_with_fields(schema: Schema, rng: random.Random) -> tuple[File, Message] | None:
    candidates = [(f, m) for f in schema.files for m in walk_messages(f.messages) if m.all_fields()]
    return rng.choice(candidates) if candidates else None


def _pick_field(schema: Schema, rng: random.Random) -> tuple[File, Message, Field] | None:
    """A field of a message, or now and then an extension field."""
    extensions = [(f, e) for f in schema.files for h in file_holders(f) for e in h.extends
                  if e.fields]
    if extensions and rng.random() < 0.15:
        file, extend = rng.choice(extensions)
        return file, extend.extendee, rng.choice(extend.fields)
    picked = _message_with_fields(schema, rng)
    if picked is None:
        return None
    file, message = picked
    return file, message, rng.choice(message.all_fields())


def _remove_field(message: Message, field: Field) -> None:
    for item in list(message.items):
        if item is field:
            message.items.remove(item)
        elif isinstance(item, Oneof) and field in item.fields:
            item.fields.remove(field)


def delete_field(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _message_with_fields(schema, rng)
    if picked is None:
        return "nothing"
    _, message = picked
    field = rng.choice(message.all_fields())
    _remove_field(message, field)
    if rng.random() < 0.3:
        message.reserved_ranges.append((field.number, field.number))
    if rng.random() < 0.3:
        message.reserved_names.append(field.name)
    return f"delete field {field.name}"


def move_field(schema: Schema, rng: random.Random, names: Names) -> str:
    """Move a field to another message, keeping its name and number (a delete in the old message)."""
    picked = _message_with_fields(schema, rng)
    if picked is None:
        return "nothing"
    _, message = picked
    field = rng.choice(message.all_fields())
    target = rng.choice(all_messages(schema))
    _remove_field(message, field)
    target.items.append(field)
    return f"move field {field.name} to {target.name}"


def rename_field(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    field = picked[2]
    old, field.name = field.name, names.field()
    return f"rename field {old} to {field.name}"


def renumber_field(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    _, message, field = picked
    used = {f.number for f in message.all_fields()}
    if rng.random() < 0.5 and len(message.all_fields()) > 1:  # swap two numbers
        other = rng.choice([f for f in message.all_fields() if f is not field])
        field.number, other.number = other.number, field.number
        return f"swap numbers of {field.name} and {other.name}"
    field.number = rng.choice([n for n in range(1, 70) if n not in used])
    return f"renumber field {field.name} to {field.number}"


def retype_field(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    field = picked[2]
    roll = rng.random()
    messages, enums = all_messages(schema), all_enums(schema)
    if field.type == "map":
        if roll < 0.5:
            field.map_key = rng.choice(MAP_KEYS)
        else:
            field.map_value, field.ref = rng.choice(SCALARS), None
        return f"retype map {field.name}"
    if roll < 0.15 and messages:
        field.type, field.ref = "message", rng.choice(messages)
    elif roll < 0.3 and enums:
        field.type, field.ref = "enum", rng.choice(enums)
    elif roll < 0.4 and field.label != "repeated":
        field.type, field.map_key, field.map_value, field.ref = "map", rng.choice(MAP_KEYS), rng.choice(SCALARS), None
        field.label = ""
    else:
        related = {"int32": ["int64", "uint32", "sint32", "enum", "bool"], "int64": ["uint64", "int32", "sint64"],
                   "string": ["bytes"], "bytes": ["string", "message"], "fixed32": ["sfixed32"],
                   "fixed64": ["sfixed64", "double"], "float": ["double"], "sint32": ["sint64", "int32"]}
        choices = related.get(field.type, []) + [rng.choice(SCALARS)]
        new_type = rng.choice(choices)
        if new_type == "enum" and enums:
            field.type, field.ref = "enum", rng.choice(enums)
        elif new_type == "message" and messages:
            field.type, field.ref = "message", rng.choice(messages)
        elif new_type not in ("enum", "message"):
            field.type, field.ref = new_type, None
    return f"retype field {field.name} to {field.type}"


def change_label(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    file, _, field = picked
    if field.type == "map":
        return "nothing"
    if is_editions(file) and rng.random() < 0.6:
        field.options["features.field_presence"] = rng.choice(["EXPLICIT", "IMPLICIT", "LEGACY_REQUIRED"])
        return f"presence of {field.name}"
    field.label = rng.choice([x for x in ("", "optional", "required", "repeated") if x != field.label])
    return f"label of {field.name} to {field.label or 'none'}"


def change_json_name(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    field = picked[2]
    field.json_name = None if field.json_name is not None and rng.random() < 0.5 else names.json()
    return f"json_name of {field.name}"


FIELD_OPTION_VALUES = {
    "deprecated": ["true", "false"], "packed": ["true", "false"], "jstype": ["JS_STRING", "JS_NUMBER", "JS_NORMAL"],
    "ctype": ["STRING", "CORD", "STRING_PIECE"], "features.field_presence": ["EXPLICIT", "IMPLICIT", "LEGACY_REQUIRED"],
    "features.repeated_field_encoding": ["PACKED", "EXPANDED"], "features.utf8_validation": ["VERIFY", "NONE"],
    "features.message_encoding": ["DELIMITED", "LENGTH_PREFIXED"],
    "features.(pb.cpp).string_type": ["STRING", "CORD", "VIEW"],
    "features.(pb.java).utf8_validation": ["DEFAULT", "VERIFY"],
}


def change_field_option(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    field = picked[2]
    if field.options and rng.random() < 0.4:
        key = rng.choice(sorted(field.options))
        del field.options[key]
        return f"remove option {key} of {field.name}"
    key = rng.choice(sorted(FIELD_OPTION_VALUES))
    if field.type in INT64S and rng.random() < 0.3:
        key = "jstype"
    field.options[key] = rng.choice(FIELD_OPTION_VALUES[key])
    return f"set option {key} of {field.name}"


def change_default(schema: Schema, rng: random.Random, names: Names) -> str:
    from .generate import scalar_default
    picked = _pick_field(schema, rng)
    if picked is None:
        return "nothing"
    field = picked[2]
    if field.default is not None and rng.random() < 0.4:
        field.default = None
    elif isinstance(field.ref, Enum):
        field.default = rng.choice(field.ref.values).name
    else:
        field.default = scalar_default(rng, field.type)
    return f"default of {field.name}"


def oneof_change(schema: Schema, rng: random.Random, names: Names) -> str:
    picked = _message_with_fields(schema, rng)
    if picked is None:
        return "nothing"
    _, message = picked
    oneofs = [i for i in message.items if isinstance(i, Oneof) and i.fields]  # earlier mutations may empty one
    roll = rng.random()
    if oneofs and roll < 0.25:
        oneof = rng.choice(oneofs)
        index = message.items.index(oneof)
        message.items[index:index + 1] = oneof.fields
        return f"dissolve oneof {oneof.name}"
    if oneofs and roll < 0.4:
        oneof = rng.choice(oneofs)
        oneof.name = names.field()
        return "rename oneof"
    if oneofs and roll < 0.6:
        oneof = rng.choice(oneofs)
        field = rng.choice(oneof.fields)
        oneof.fields.remove(field)
        if len(oneofs) > 1 and rng.random() < 0.5:
            rng.choice([o for o in oneofs if o is not oneof]).fields.append(field)
            return f"move {field.name} to another oneof"
        message.items.append(field)
        return f"move {field.name} out of oneof"
    plain = [i for i in message.items if isinstance(i, Field) and i.type != "map" and i.label != "repeated"]
    if not plain:
        return "nothing"
    field = rng.choice(plain)
    if oneofs and rng.random() < 0.5:
        target = rng.choice(oneofs)
        message.items.remove(field)
        target.fields.append(field)
    else:
        message.items[message.items.index(field)] = Oneof(name=names.field(), fields=[field])
    return f"move {field.name} into a oneof"


def _detach(schema: Schema, target: Message | Enum) -> File | Message:
    """Remove a message or enum from where it is declared; returns that file or message."""
    for holder in holders(schema):
        members: list[Message] | list[Enum] = holder.messages if isinstance(target, Message) else holder.enums
        if any(member is target for member in members):
            members.remove(target)  # type: ignore[arg-type]
            return holder
    raise LookupError(target.name)


def _attach(holder: File | Message, element: Message | Enum) -> None:
    if isinstance(element, Message):
        holder.messages.append(element)
    else:
        holder.enums.append(element)


def delete_message(schema: Schema, rng: random.Random, names: Names) -> str:
    messages = all_messages(schema)
    if len(messages) < 2:
        return "nothing"
    message = rng.choice(messages)
    _detach(schema, message)
    return f"delete message {message.name}"


def rename_message(schema: Schema, rng: random.Random, names: Names) -> str:
    elements: list[Message | Enum] = [*all_messages(schema), *all_enums(schema)]
    element = rng.choice(elements)
    old, element.name = element.name, names.message()
    return f"rename {old} to {element.name}"


def move_element(schema: Schema, rng: random.Random, names: Names) -> str:
    """Move a message or enum to another file (or into / out of a message)."""
    elements: list[Message | Enum] = [*all_messages(schema), *all_enums(schema)]
    element = rng.choice(elements)
    holder = _detach(schema, element)
    roll = rng.random()
    file = rng.choice(schema.files)
    if roll < 0.2 and all_messages(schema):
        parent = rng.choice(all_messages(schema))
        if isinstance(element, Message) and parent in walk_messages([element]):
            _attach(holder, element)  # not inside itself
            return "nothing"
        _attach(parent, element)
        return f"nest {element.name} in {parent.name}"
    _attach(file, element)
    return f"move {element.name} to {file.path}"


def enum_change(schema: Schema, rng: random.Random, names: Names) -> str:
    enums = all_enums(schema)
    if not enums:
        return "nothing"
    enum = rng.choice(enums)
    roll = rng.random()
    if roll < 0.15:
        _detach(schema, enum)
        return f"delete enum {enum.name}"
    value = rng.choice(enum.values)
    if roll < 0.4 and len(enum.values) > 1:
        enum.values.remove(value)
        if rng.random() < 0.3:
            enum.reserved_ranges.append((value.number, value.number))
        if rng.random() < 0.3:
            enum.reserved_names.append(value.name)
        return f"delete enum value {value.name}"
    if roll < 0.55:
        value.name = names.enum_value(enum.name)
        return "rename enum value"
    if roll < 0.65:
        value.number = rng.choice([v.number for v in enum.values] + [value.number + 7, 0, 1])
        return "renumber enum value"
    if roll < 0.75:
        enum.values.append(EnumValue(names.enum_value(enum.name), value.number))
        return "add alias"
    if roll < 0.85:
        key = rng.choice(["features.enum_type", "features.json_format", "deprecated"])
        enum.options[key] = {"features.enum_type": rng.choice(["OPEN", "CLOSED"]),
                             "features.json_format": rng.choice(["ALLOW", "LEGACY_BEST_EFFORT"]),
                             "deprecated": "true"}[key]
        return f"enum option {key}"
    if enum.reserved_ranges or enum.reserved_names:
        enum.reserved_ranges, enum.reserved_names = enum.reserved_ranges[1:], enum.reserved_names[:-1]
        return "delete enum reserved"
    enum.values.append(EnumValue(names.enum_value(enum.name), max(v.number for v in enum.values) + 1))
    return "add enum value"


def message_change(schema: Schema, rng: random.Random, names: Names) -> str:
    messages = all_messages(schema)
    message = rng.choice(messages)
    roll = rng.random()
    if roll < 0.25 and (message.reserved_ranges or message.reserved_names):
        if message.reserved_ranges and rng.random() < 0.5:
            low, high = message.reserved_ranges.pop(rng.randrange(len(message.reserved_ranges)))
            if high > low and rng.random() < 0.5:
                message.reserved_ranges.append((low, high - 1))
        elif message.reserved_names:
            message.reserved_names.pop()
        return f"shrink reserved of {message.name}"
    if roll < 0.35 and (message.reserved_ranges or message.extension_ranges):
        ranges = message.reserved_ranges if message.reserved_ranges and rng.random() < 0.5 else message.extension_ranges
        if not ranges:
            return "nothing"
        low, high = ranges.pop(rng.randrange(len(ranges)))
        if high > low:  # split in two, or in two with a hole, or shift the end
            middle = rng.randint(low, high - 1)
            gap = rng.choice([0, 0, 1])
            ranges += [(low, middle)] + ([(middle + 1 + gap, high)] if middle + 1 + gap <= high else [])
        else:
            ranges.append((low, high + rng.choice([1, 5])))
        return f"split or grow a range of {message.name}"
    if roll < 0.45 and message.extension_ranges:
        low, high = message.extension_ranges.pop()
        if rng.random() < 0.5:
            message.extension_ranges.append((low, low + (high - low) // 2))
        return f"shrink extension range of {message.name}"
    if roll < 0.55:
        message.extension_ranges.append(rng.choice([(100, 199), (300, 310)]))
        return "add extension range"
    if roll < 0.8:
        key = rng.choice(["deprecated", "no_standard_descriptor_accessor", "features.json_format",
                          "deprecated_legacy_json_field_conflicts"])
        if key in message.options:
            del message.options[key]
        else:
            message.options[key] = {"features.json_format": rng.choice(["ALLOW", "LEGACY_BEST_EFFORT"])}.get(
                key, rng.choice(["true", "false"]))
        return f"message option {key}"
    generator = Generator(rng)
    generator.names, generator.messages, generator.enums = names, messages, all_enums(schema)
    file = rng.choice(schema.files)
    used = {f.number for f in message.all_fields()}
    number = next(n for n in range(1, 200) if n not in used)
    message.items.append(generator.field(file, number))
    return "add field"


def service_change(schema: Schema, rng: random.Random, names: Names) -> str:
    services = [(f, s) for f in schema.files for s in f.services]
    if not services:
        return "nothing"
    file, service = rng.choice(services)
    roll = rng.random()
    if roll < 0.15 or not service.methods:
        file.services.remove(service)
        if rng.random() < 0.3:
            rng.choice(schema.files).services.append(service)
            return f"move service {service.name}"
        return f"delete service {service.name}"
    method = rng.choice(service.methods)
    if roll < 0.3:
        service.methods.remove(method)
        return f"delete rpc {method.name}"
    if roll < 0.4:
        method.name = names.message()
        return "rename rpc"
    if roll < 0.55:
        method.client_streaming = not method.client_streaming
        return "client streaming"
    if roll < 0.7:
        method.server_streaming = not method.server_streaming
        return "server streaming"
    if roll < 0.78:
        if rng.random() < 0.5:
            method.input = rng.choice(all_messages(schema))
        else:
            method.output = rng.choice(all_messages(schema))
        return "rpc types"
    if roll < 0.85:
        service.name = names.message()
        return "rename service"
    method.options["idempotency_level"] = rng.choice(["IDEMPOTENCY_UNKNOWN", "NO_SIDE_EFFECTS", "IDEMPOTENT"])
    if rng.random() < 0.3:
        del method.options["idempotency_level"]
    return "idempotency level"


def extension_change(schema: Schema, rng: random.Random, names: Names) -> str:
    extends = [(h, e) for f in schema.files for h in file_holders(f) for e in h.extends if e.fields]
    if not extends:
        return "nothing"
    holder, extend = rng.choice(extends)
    roll = rng.random()
    if roll < 0.3:
        holder.extends.remove(extend)
        return "delete extend block"
    field = rng.choice(extend.fields)
    if roll < 0.6:
        extend.fields.remove(field)
        return f"delete extension {field.name}"
    target = rng.choice(extends)[0]
    holder.extends.remove(extend)
    target.extends.append(extend)
    return "move extend block"


def file_change(schema: Schema, rng: random.Random, names: Names) -> str:
    file = rng.choice(schema.files)
    roll = rng.random()
    if roll < 0.4:
        roll = 1.0  # options most of the time: each FILE_SAME_<option> rule needs its own change
    if roll < 0.12:
        file.package = rng.choice(PACKAGES)
        return f"package of {file.path} to {file.package or 'none'}"
    if roll < 0.22:
        file.syntax = rng.choice([s for s in SYNTAXES if s != file.syntax])
        return f"syntax of {file.path} to {file.syntax}"
    if roll < 0.3 and len(schema.files) > 1:
        schema.files.remove(file)
        return f"delete file {file.path}"
    if roll < 0.38:
        old, file.path = file.path, file.path.replace(".proto", "_moved.proto")
        return f"rename file {old}"
    if roll < 0.46 and len(schema.files) > 1:
        other = rng.choice([f for f in schema.files if f is not file])
        other.messages += file.messages
        other.enums += file.enums
        other.services += file.services
        other.extends += file.extends
        schema.files.remove(file)
        return f"merge {file.path} into {other.path}"
    if roll < 0.5:
        schema.files.append(File(path=f"added/n{names.counter}.proto", package=rng.choice(PACKAGES),
                                 syntax=rng.choice(SYNTAXES)))
        return "add empty file"
    if is_editions(file) and roll < 0.7:
        key = rng.choice(sorted(EDITION_FILE_FEATURES))
        if key in file.options and rng.random() < 0.5:
            del file.options[key]
        else:
            file.options[key] = rng.choice(EDITION_FILE_FEATURES[key])
        return f"file feature {key}"
    key = rng.choice(sorted(FILE_OPTIONS))
    if key in file.options and rng.random() < 0.4:
        del file.options[key]
        return f"remove file option {key}"
    file.options[key] = rng.choice(FILE_OPTIONS[key])
    return f"file option {key}"


MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (delete_field, 6), (move_field, 2), (rename_field, 4), (renumber_field, 3), (retype_field, 6), (change_label, 5),
    (change_json_name, 2), (change_field_option, 5), (change_default, 3), (oneof_change, 4), (delete_message, 3),
    (rename_message, 2), (move_element, 3), (enum_change, 6), (message_change, 5), (service_change, 5),
    (extension_change, 3), (file_change, 10),
)


def mutate(schema: Schema, rng: random.Random, count: int) -> list[str]:
    """Apply `count` random mutations, then repair validity; returns what was done."""
    names = Names(rng, start=100_000)
    functions = [m for m, _ in MUTATIONS]
    weights = [w for _, w in MUTATIONS]
    done: list[str] = []
    for _ in range(count):
        mutation = rng.choices(functions, weights)[0]
        try:
            done.append(mutation(schema, rng, names))
        except IndexError:  # nothing of that kind left (earlier mutations deleted it all): a no-op
            done.append(f"{mutation.__name__}: nothing")
    fixup(schema)
    return done
