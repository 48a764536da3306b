"""A consumer of the Python code of `orders` and `common`: round-trips an Order through the wire format,
then (unless given `--messages-only`) serves the Orders service on a loopback port and calls both RPCs
through the generated stub. Prints one line per check; any mismatch exits non-zero."""
from __future__ import annotations

import sys
from concurrent import futures

from acme.common.v1 import common_pb2
from acme.orders.v1 import orders_pb2


def order(order_id: str) -> orders_pb2.Order:
    return orders_pb2.Order(id=order_id, priority=common_pb2.PRIORITY_HIGH, quantities={"apple": 3}, voucher="V-9",
                            total=common_pb2.Money(currency="EUR", units=42, labels={"channel": "web"}))


def check(ok: bool, what: str) -> None:
    if not ok:
        sys.exit(f"mismatch: {what}")


def round_trip() -> None:
    again = orders_pb2.Order.FromString(order("o-1").SerializeToString())
    check(again == order("o-1") and again.WhichOneof("payment") == "voucher"
          and again.total.labels["channel"] == "web", "round-trip")
    print("round-trip ok")


def both_rpcs() -> None:
    import grpc
    from acme.orders.v1 import orders_pb2_grpc

    class Orders(orders_pb2_grpc.OrdersServicer):
        """The methods are named as the generated servicer names them."""

        def GetOrder(self, request, context):
            return order(request.id)

        def ListOrders(self, request, context):
            for index in range(request.limit):
                yield order(f"o-{index}")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    orders_pb2_grpc.add_OrdersServicer_to_server(Orders(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = orders_pb2_grpc.OrdersStub(channel)
            got = stub.GetOrder(orders_pb2.GetOrderRequest(id="o-7"), timeout=30)
            check(got.id == "o-7" and got.priority == common_pb2.PRIORITY_HIGH, "unary")
            print("unary ok")
            ids = [item.id for item in stub.ListOrders(orders_pb2.ListOrdersRequest(limit=3), timeout=30)]
            check(ids == ["o-0", "o-1", "o-2"], f"server-streaming {ids}")
            print(f"server-streaming ok: [{' '.join(ids)}]")
    finally:
        server.stop(None)


if __name__ == "__main__":
    round_trip()
    if "--messages-only" not in sys.argv[1:]:
        both_rpcs()
