<?php
// A consumer of the PHP code for `orders` and `common` (their directories as arguments), on Debian's
// google/protobuf runtime (/usr/share/php): round-trips an Order through the wire format. Debian has no
// PHP gRPC extension, so the generated client is only syntax-checked (php -l) by the test.
$roots = array_merge(array_slice($argv, 1), ['/usr/share/php']);
spl_autoload_register(function (string $class) use ($roots): void {
    foreach ($roots as $root) {
        $path = $root . '/' . str_replace('\\', '/', $class) . '.php';
        if (is_file($path)) {
            require_once $path;
            return;
        }
    }
});

use Acme\Common\V1\Money;
use Acme\Common\V1\Priority;
use Acme\Orders\V1\Order;

function order(string $id): Order {
    return new Order(['id' => $id, 'priority' => Priority::PRIORITY_HIGH, 'quantities' => ['apple' => 3],
        'voucher' => 'V-9', 'total' => new Money(['currency' => 'EUR', 'units' => 42, 'labels' => ['channel' => 'web']])]);
}

$again = new Order();
$again->mergeFromString(order('o-1')->serializeToString());
if ($again->serializeToString() !== order('o-1')->serializeToString() || $again->getPayment() !== 'voucher'
    || $again->getTotal()->getLabels()['channel'] !== 'web' || $again->getQuantities()['apple'] !== 3
    || $again->getPriority() !== Priority::PRIORITY_HIGH) {
    fwrite(STDERR, "mismatch: round-trip\n");
    exit(1);
}
echo "round-trip ok\n";
