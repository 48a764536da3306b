"""Rules over services and their RPCs, paired by service full name and method name."""
from __future__ import annotations

from collections.abc import Callable

from google.protobuf import descriptor_pb2

from .context import Ctx
from .index import SERVICE_METHODS, ServiceIdx
from .text import q

ServicePairRule = Callable[[Ctx, ServiceIdx, ServiceIdx], None]
Method = descriptor_pb2.MethodDescriptorProto


def rpc_no_delete(ctx: Ctx, new: ServiceIdx, old: ServiceIdx) -> None:
    for name in old.methods:
        if name not in new.methods:
            ctx.add("RPC_NO_DELETE", new.file, new.span(), old.file,
                    f"Previously present RPC {q(name)} on service {q(new.name)} was deleted.")


def _method_pairs(new: ServiceIdx, old: ServiceIdx) -> list[tuple[int, Method, Method]]:
    pairs = []
    for name, (_, old_method) in old.methods.items():
        found = new.methods.get(name)
        if found is not None:
            pairs.append((found[0], found[1], old_method))
    return pairs


def _streaming(rule: str, side: str, attribute: str) -> ServicePairRule:
    def check(ctx: Ctx, new: ServiceIdx, old: ServiceIdx) -> None:
        for index, method, old_method in _method_pairs(new, old):
            before, after = getattr(old_method, attribute), getattr(method, attribute)
            if before != after:
                previous, current = ("unary", "streaming") if after else ("streaming", "unary")
                ctx.add(rule, new.file, new.file.span(new.path + (SERVICE_METHODS, index)), old.file,
                        f"RPC {q(method.name)} on service {q(new.name)} changed from {side} {previous} "
                        f"to {side} {current}.")

    check.__name__ = rule.lower()
    return check


def rpc_same_idempotency_level(ctx: Ctx, new: ServiceIdx, old: ServiceIdx) -> None:
    names = descriptor_pb2.MethodOptions.IdempotencyLevel.Name
    for index, method, old_method in _method_pairs(new, old):
        before, after = old_method.options.idempotency_level, method.options.idempotency_level
        if before != after:
            ctx.add("RPC_SAME_IDEMPOTENCY_LEVEL", new.file,
                    new.file.span(new.path + (SERVICE_METHODS, index, 4, 34)), old.file,
                    f'RPC {q(method.name)} on service {q(new.name)} changed option "idempotency_level" from '
                    f"{q(names(before))} to {q(names(after))}.")


def _same_type(rule: str, kind: str, attribute: str, field_number: int) -> ServicePairRule:
    def check(ctx: Ctx, new: ServiceIdx, old: ServiceIdx) -> None:
        for index, method, old_method in _method_pairs(new, old):
            before, after = getattr(old_method, attribute), getattr(method, attribute)
            if before != after:
                ctx.add(rule, new.file, new.file.span(new.path + (SERVICE_METHODS, index, field_number)), old.file,
                        f"RPC {q(method.name)} on service {q(new.name)} changed {kind} type from "
                        f"{q(before.lstrip('.'))} to {q(after.lstrip('.'))}.")

    check.__name__ = rule.lower()
    return check


SERVICE_PAIR_RULES: dict[str, ServicePairRule] = {
    "RPC_NO_DELETE": rpc_no_delete,
    "RPC_SAME_CLIENT_STREAMING": _streaming("RPC_SAME_CLIENT_STREAMING", "client", "client_streaming"),
    "RPC_SAME_SERVER_STREAMING": _streaming("RPC_SAME_SERVER_STREAMING", "server", "server_streaming"),
    "RPC_SAME_IDEMPOTENCY_LEVEL": rpc_same_idempotency_level,
    "RPC_SAME_REQUEST_TYPE": _same_type("RPC_SAME_REQUEST_TYPE", "request", "input_type", 2),
    "RPC_SAME_RESPONSE_TYPE": _same_type("RPC_SAME_RESPONSE_TYPE", "response", "output_type", 3),
}
