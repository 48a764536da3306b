// A consumer of the Java code for `orders` and `common`: round-trips an Order through the wire format,
// then serves the Orders service in-process (grpc-java's in-process transport) and calls both RPCs
// through the generated blocking stub. Prints one line per check; any mismatch exits non-zero.
import acme.common.v1.Common.Money;
import acme.common.v1.Common.Priority;
import acme.orders.v1.OrdersGrpc;
import acme.orders.v1.OrdersOuterClass.GetOrderRequest;
import acme.orders.v1.OrdersOuterClass.ListOrdersRequest;
import acme.orders.v1.OrdersOuterClass.Order;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

public final class OrdersDemo {
  static Order order(String id) {
    return Order.newBuilder()
        .setId(id)
        .setTotal(Money.newBuilder().setCurrency("EUR").setUnits(42).putLabels("channel", "web"))
        .setPriority(Priority.PRIORITY_HIGH)
        .putQuantities("apple", 3)
        .setVoucher("V-9")
        .build();
  }

  static final class Service extends OrdersGrpc.OrdersImplBase {
    @Override
    public void getOrder(GetOrderRequest request, StreamObserver<Order> reply) {
      reply.onNext(order(request.getId()));
      reply.onCompleted();
    }

    @Override
    public void listOrders(ListOrdersRequest request, StreamObserver<Order> reply) {
      for (int i = 0; i < request.getLimit(); i++) {
        reply.onNext(order("o-" + i));
      }
      reply.onCompleted();
    }
  }

  static void check(boolean ok, String what) {
    if (!ok) {
      System.err.println("mismatch: " + what);
      System.exit(1);
    }
  }

  public static void main(String[] args) throws Exception {
    Order again = Order.parseFrom(order("o-1").toByteArray());
    check(again.equals(order("o-1")), "round-trip");
    check(again.getPaymentCase() == Order.PaymentCase.VOUCHER, "oneof");
    check(again.getTotal().getLabelsMap().get("channel").equals("web"), "map");
    System.out.println("round-trip ok");

    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).directExecutor().addService(new Service()).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      OrdersGrpc.OrdersBlockingStub stub = OrdersGrpc.newBlockingStub(channel);
      Order got = stub.getOrder(GetOrderRequest.newBuilder().setId("o-7").build());
      check(got.getId().equals("o-7") && got.getPriority() == Priority.PRIORITY_HIGH, "unary");
      System.out.println("unary ok");
      List<String> ids = new ArrayList<>();
      Iterator<Order> streamed = stub.listOrders(ListOrdersRequest.newBuilder().setLimit(3).build());
      streamed.forEachRemaining(item -> ids.add(item.getId()));
      check(ids.toString().equals("[o-0, o-1, o-2]"), "server-streaming " + ids);
      System.out.println("server-streaming ok: " + ids);
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
