"""C#, Kotlin and Objective-C: no toolchain or runtime for them in Debian bookworm (no Google.Protobuf
NuGet package, no protobuf-kotlin jar, no Objective-C Protobuf library), so these are checked for their
contents only: every expected file, messages and gRPC stubs, is there and declares what it should."""
from __future__ import annotations

import pytest

from tests.toolchains.protos import COMMON, ORDERS
from tests.toolchains.registry import Registry

# {language: {module: {file: text it must contain}}}
EXPECTED = {
    "csharp": {
        COMMON: {"Acme/Common/V1/Common.cs": "public sealed partial class Money"},
        ORDERS: {"Acme/Orders/V1/Orders.cs": "public sealed partial class Order",
                 "Acme/Orders/V1/OrdersGrpc.cs": "public partial class OrdersClient"},
    },
    "kotlin": {
        COMMON: {"acme/common/v1/MoneyKt.kt": "object MoneyKt", "acme/common/v1/Common.java": "class Money"},
        ORDERS: {"acme/orders/v1/OrderKt.kt": "object OrderKt",
                 "acme/orders/v1/OrdersOuterClass.java": "class Order",
                 "acme/orders/v1/OrdersGrpc.java": "class OrdersImplBase"},
    },
    "objc": {
        COMMON: {"acme/common/v1/Common.pbobjc.h": "@interface Money",
                 "acme/common/v1/Common.pbobjc.m": "@implementation Money"},
        ORDERS: {"acme/orders/v1/Orders.pbobjc.h": "@interface Order",
                 "acme/orders/v1/Orders.pbobjc.m": "@implementation Order",
                 "acme/orders/v1/Orders.pbrpc.h": "@interface Orders : GRPCProtoService",
                 "acme/orders/v1/Orders.pbrpc.m": "- (void)listOrdersWithRequest:"},
    },
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
@pytest.mark.parametrize("module", [COMMON, ORDERS])
def test_the_zip_holds_each_expected_file_declaring_its_types(registry: Registry, language: str,
                                                              module: str) -> None:
    archive = registry.archive(module, language)
    for path, needle in EXPECTED[language][module].items():
        assert path in archive.namelist(), (path, archive.namelist())
        text = archive.read(path).decode()
        assert needle in text and len(text) > 500, (path, needle, len(text))
