// A consumer of the C++ code for `orders` and `common`: round-trips an Order through the wire format,
// then serves the Orders service in-process (Server::InProcessChannel) and calls both RPCs through the
// generated stub. Prints one line per check; any mismatch exits non-zero.
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <memory>
#include <string>

#include "acme/orders/v1/orders.grpc.pb.h"
#include "acme/orders/v1/orders.pb.h"

using acme::orders::v1::GetOrderRequest;
using acme::orders::v1::ListOrdersRequest;
using acme::orders::v1::Order;

static Order MakeOrder(const std::string& id) {
  Order order;
  order.set_id(id);
  order.mutable_total()->set_currency("EUR");
  order.mutable_total()->set_units(42);
  (*order.mutable_total()->mutable_labels())["channel"] = "web";
  order.set_priority(acme::common::v1::PRIORITY_HIGH);
  (*order.mutable_quantities())["apple"] = 3;
  order.set_voucher("V-9");
  return order;
}

static void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "mismatch: " << what << std::endl;
    std::exit(1);
  }
}

class Service final : public acme::orders::v1::Orders::Service {
  grpc::Status GetOrder(grpc::ServerContext*, const GetOrderRequest* request, Order* reply) override {
    *reply = MakeOrder(request->id());
    return grpc::Status::OK;
  }
  grpc::Status ListOrders(grpc::ServerContext*, const ListOrdersRequest* request,
                          grpc::ServerWriter<Order>* writer) override {
    for (int i = 0; i < request->limit(); ++i) writer->Write(MakeOrder("o-" + std::to_string(i)));
    return grpc::Status::OK;
  }
};

int main() {
  Order again;
  Check(again.ParseFromString(MakeOrder("o-1").SerializeAsString()), "parse");
  Check(again.SerializeAsString() == MakeOrder("o-1").SerializeAsString(), "round-trip");
  Check(again.payment_case() == Order::kVoucher && again.total().labels().at("channel") == "web", "oneof/map");
  std::cout << "round-trip ok" << std::endl;

  Service service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = acme::orders::v1::Orders::NewStub(server->InProcessChannel(grpc::ChannelArguments()));

  grpc::ClientContext unary;
  GetOrderRequest get;
  get.set_id("o-7");
  Order got;
  Check(stub->GetOrder(&unary, get, &got).ok() && got.id() == "o-7", "unary");
  std::cout << "unary ok" << std::endl;

  grpc::ClientContext streaming;
  ListOrdersRequest list;
  list.set_limit(3);
  auto reader = stub->ListOrders(&streaming, list);
  std::string ids;
  for (Order item; reader->Read(&item);) ids += (ids.empty() ? "" : " ") + item.id();
  Check(reader->Finish().ok() && ids == "o-0 o-1 o-2", "server-streaming " + ids);
  std::cout << "server-streaming ok: [" << ids << "]" << std::endl;
  server->Shutdown();
  return 0;
}
