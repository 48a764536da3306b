"""Additive changes a reviewer wants to see: not breaking, but worth a line in the review."""
from __future__ import annotations

from google.protobuf import descriptor_pb2

from .index import Index


def additions(new: descriptor_pb2.FileDescriptorSet, old: descriptor_pb2.FileDescriptorSet) -> list[str]:
    """Human-readable notes for files, messages, fields, enums, enum values, services and RPCs added in `new`."""
    new_index, old_index = Index(new), Index(old)
    notes: list[str] = []
    for path in new_index.files:
        if path not in old_index.files:
            notes.append(f"File '{path}' added")
    for name, message in new_index.messages.items():
        if message.is_map_entry:
            continue
        old_message = old_index.messages.get(name)
        if old_message is None:
            notes.append(f"Message '{message.nested_name}' added")
            continue
        for number, field in message.fields_by_number.items():
            if number not in old_message.fields_by_number:
                notes.append(f"Field '{field.name}' added to {message.name} message")
        old_oneofs = set(old_message.oneofs)
        synthetic = message.synthetic_oneofs()
        for index, oneof in enumerate(message.oneofs):
            if oneof not in old_oneofs and index not in synthetic:
                notes.append(f"Oneof '{oneof}' added to {message.name} message")
    for name, enum in new_index.enums.items():
        old_enum = old_index.enums.get(name)
        if old_enum is None:
            notes.append(f"Enum '{enum.nested_name}' added")
            continue
        old_names = {value.name for value in old_enum.proto.value}
        for value in enum.proto.value:
            if value.name not in old_names:
                notes.append(f"Enum value '{value.name}' added to {enum.name} enum")
    for extendee, extensions in new_index.extensions.items():
        old_extensions = old_index.extensions.get(extendee, {})
        for number, extension in extensions.items():
            if number not in old_extensions:
                notes.append(f"Extension '{extension.full_name}' added to {extendee} message")
    for name, service in new_index.services.items():
        old_service = old_index.services.get(name)
        if old_service is None:
            notes.append(f"Service '{service.name}' added")
            continue
        for method_name in service.methods:
            if method_name not in old_service.methods:
                notes.append(f"RPC '{method_name}' added to {service.name} service")
    return notes
