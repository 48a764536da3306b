"""The descriptor set: orders' FileDescriptorSet (imports included) loads into a fresh descriptor pool,
with no generated code, and a dynamic message built from it round-trips."""
from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tests.toolchains.protos import ORDERS
from tests.toolchains.registry import Registry


def test_orders_descriptor_set_loads_into_a_fresh_pool_and_round_trips(registry: Registry) -> None:
    # Given orders' descriptor set as downloaded
    descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(registry.content(ORDERS, "descriptor_set"))
    assert [file.name for file in descriptor_set.file] == ["acme/common/v1/common.proto",
                                                           "acme/orders/v1/orders.proto"]
    # When its files are added, dependencies first, to a pool that knows nothing else
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_set.file:
        pool.Add(file)
    # Then the service and its streaming RPC are described,
    methods = {method.name: method for method in pool.FindServiceByName("acme.orders.v1.Orders").methods}
    assert (methods["GetOrder"].server_streaming, methods["ListOrders"].server_streaming) == (False, True)
    # and a dynamic Order, common's Money inside, survives the wire
    order_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("acme.orders.v1.Order"))
    order = order_class(id="o-1", voucher="V-9", quantities={"apple": 3})
    order.total.currency, order.total.labels["channel"] = "EUR", "web"
    again = order_class.FromString(order.SerializeToString())
    assert again == order and again.WhichOneof("payment") == "voucher"
    assert again.total.labels["channel"] == "web"
