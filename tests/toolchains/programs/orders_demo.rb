# A consumer of the Ruby code for `orders` and `common` (their directories on the command line):
# round-trips an Order through the wire format, then serves the Orders service on a loopback port and
# calls both RPCs through the generated stub. Prints one line per check; any mismatch exits non-zero.
ARGV.each { |dir| $LOAD_PATH.unshift(dir) }
require "acme/orders/v1/orders_services_pb"

V1 = Acme::Orders::V1

def order(id)
  V1::Order.new(id: id, priority: :PRIORITY_HIGH, quantities: { "apple" => 3 }, voucher: "V-9",
                total: Acme::Common::V1::Money.new(currency: "EUR", units: 42, labels: { "channel" => "web" }))
end

def check(ok, what)
  abort("mismatch: #{what}") unless ok
end

again = V1::Order.decode(V1::Order.encode(order("o-1")))
check(again == order("o-1") && again.payment == :voucher && again.total.labels["channel"] == "web", "round-trip")
puts "round-trip ok"

class OrdersService < V1::Orders::Service
  def get_order(request, _call)
    order(request.id)
  end

  def list_orders(request, _call)
    (0...request.limit).map { |i| order("o-#{i}") }
  end
end

server = GRPC::RpcServer.new
port = server.add_http2_port("127.0.0.1:0", :this_port_is_insecure)
server.handle(OrdersService)
thread = Thread.new { server.run }
server.wait_till_running
begin
  stub = V1::Orders::Stub.new("127.0.0.1:#{port}", :this_channel_is_insecure)
  got = stub.get_order(V1::GetOrderRequest.new(id: "o-7"))
  check(got.id == "o-7" && got.priority == :PRIORITY_HIGH, "unary")
  puts "unary ok"
  ids = stub.list_orders(V1::ListOrdersRequest.new(limit: 3)).map(&:id)
  check(ids == %w[o-0 o-1 o-2], "server-streaming #{ids}")
  puts "server-streaming ok: [#{ids.join(' ')}]"
ensure
  server.stop
  thread.join
end
