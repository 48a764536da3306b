"""The two modules every toolchain test builds: `orders` depends on `common` and has a service.

Between them they hold what generated code most often gets wrong: a message, an enum and a map in the
dependency; an import of it, a oneof, a map, a unary and a server-streaming RPC in the dependent.
Neither sets go_package: the registry derives each Go import path from the module's name.
"""
from __future__ import annotations

COMMON = "common"
ORDERS = "orders"
VERSION = "v1.0.0"

COMMON_FILES = {"acme/common/v1/common.proto": """syntax = "proto3";
package acme.common.v1;

// An amount of money, with free-form labels.
message Money {
  string currency = 1;
  int64 units = 2;
  map<string, string> labels = 3;
}

enum Priority {
  PRIORITY_UNSPECIFIED = 0;
  PRIORITY_LOW = 1;
  PRIORITY_HIGH = 2;
}
"""}

ORDERS_FILES = {"acme/orders/v1/orders.proto": """syntax = "proto3";
package acme.orders.v1;

import "acme/common/v1/common.proto";

message Order {
  string id = 1;
  acme.common.v1.Money total = 2;
  acme.common.v1.Priority priority = 3;
  map<string, int32> quantities = 4;
  oneof payment {
    string card = 5;
    string voucher = 6;
  }
}

message GetOrderRequest { string id = 1; }
message ListOrdersRequest { int32 limit = 1; }

service Orders {
  rpc GetOrder(GetOrderRequest) returns (Order);
  rpc ListOrders(ListOrdersRequest) returns (stream Order);
}
"""}

# A module written in editions (protoc-gen-go before 1.34 refused these: `invalid syntax: "editions"`).
LEDGER = "ledger"
LEDGER_FILES = {"acme/ledger/v1/ledger.proto": """edition = "2023";
package acme.ledger.v1;

message Entry {
  string id = 1;
  int64 cents = 2 [features.field_presence = IMPLICIT];
  repeated string tags = 3;
}
"""}
