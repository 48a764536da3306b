"""RPC rules: streaming, and request/response types' names and uniqueness."""
from __future__ import annotations

from collections.abc import Iterator

from google.protobuf import descriptor_pb2

from .casing import to_pascal_case
from .context import Context, Hit, quoted
from .source import METHOD_INPUT, METHOD_OUTPUT, LintFile, Path

EMPTY = "google.protobuf.Empty"


def _methods(context: Context) -> Iterator[tuple[LintFile, descriptor_pb2.MethodDescriptorProto, Path,
                                                descriptor_pb2.ServiceDescriptorProto]]:
    for file in context.targets:
        for method, path, service in file.methods():
            yield file, method, path, service


def rpc_no_client_streaming(context: Context) -> Iterator[Hit]:
    for file, method, path, _ in _methods(context):
        if method.client_streaming:
            yield file, file.at(path), f"RPC {quoted(method.name)} is client streaming."


def rpc_no_server_streaming(context: Context) -> Iterator[Hit]:
    for file, method, path, _ in _methods(context):
        if method.server_streaming:
            yield file, file.at(path), f"RPC {quoted(method.name)} is server streaming."


def _standard_name(context: Context, kind: str) -> Iterator[Hit]:
    request = kind == "request"
    allow_empty = (context.config.rpc_allow_google_protobuf_empty_requests if request
                   else context.config.rpc_allow_google_protobuf_empty_responses)
    suffix = "Request" if request else "Response"
    for file, method, path, service in _methods(context):
        name = (method.input_type if request else method.output_type).lstrip(".")
        if allow_empty and name == EMPTY:
            continue
        short = name.rsplit(".", 1)[-1]
        first = to_pascal_case(method.name) + suffix
        second = to_pascal_case(service.name) + first
        if short not in (first, second):
            yield file, file.at(path + (METHOD_INPUT if request else METHOD_OUTPUT,)), (
                f"RPC {kind} type {quoted(short)} should be named {quoted(first)} or {quoted(second)}.")


def rpc_request_standard_name(context: Context) -> Iterator[Hit]:
    return _standard_name(context, "request")


def rpc_response_standard_name(context: Context) -> Iterator[Hit]:
    return _standard_name(context, "response")


def rpc_request_response_unique(context: Context) -> Iterator[Hit]:
    config = context.config
    allow_requests = config.rpc_allow_google_protobuf_empty_requests
    allow_responses = config.rpc_allow_google_protobuf_empty_responses
    methods: dict[str, tuple[LintFile, descriptor_pb2.MethodDescriptorProto, Path]] = {}
    for file, method, path, service in _methods(context):
        prefix = f"{file.package}." if file.package else ""
        methods[f"{prefix}{service.name}.{method.name}"] = (file, method, path)
    if not config.rpc_allow_same_request_response:
        for file, method, path in methods.values():
            request, response = method.input_type.lstrip("."), method.output_type.lstrip(".")
            if request == response and not (request == EMPTY and allow_requests and allow_responses):
                yield file, file.at(path), (
                    f"RPC {quoted(method.name)} has the same type {quoted(request)} for the request and response.")
    users: dict[str, dict[str, tuple[LintFile, descriptor_pb2.MethodDescriptorProto, Path]]] = {}
    for full_name, (file, method, path) in methods.items():
        for type_name in (method.input_type.lstrip("."), method.output_type.lstrip(".")):
            users.setdefault(type_name, {})[full_name] = (file, method, path)
    for type_name, by_method in users.items():
        if len(by_method) == 1:
            continue
        if type_name == EMPTY and (allow_requests or allow_responses):
            if allow_requests and allow_responses:
                continue
            as_request = [m for m in by_method.values() if m[1].input_type.lstrip(".") == EMPTY]
            as_response = [m for m in by_method.values() if m[1].output_type.lstrip(".") == EMPTY]
            if not allow_requests and len(as_request) > 1:
                for file, _, path in as_request:
                    yield file, file.at(path), f"{quoted(type_name)} is used as the request for multiple RPCs."
            if not allow_responses and len(as_response) > 1:
                for file, _, path in as_response:
                    yield file, file.at(path), f"{quoted(type_name)} is used as the response for multiple RPCs."
        else:
            for file, _, path in by_method.values():
                yield file, file.at(path), (
                    f"{quoted(type_name)} is used as the request or response type for multiple RPCs.")
