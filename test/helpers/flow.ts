import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { tempDir } from './spawn.js';

/** The guide's "Example flow script" (store-api-seed.txt), character for character. */
const GUIDE_FLOW_SCRIPT = `#!/bin/bash
# 1. Create cart
cart=$(curl -s -X POST http://localhost:8000/cart)
cart_id=$(echo $cart | jq -r '.cart_id')
echo "Cart ID: $cart_id"
# 2. Add item
curl -s -X POST http://localhost:8000/cart/$cart_id/items \\
-H "Content-Type: application/json" \\
-d '{"product_id": 3, "quantity": 1}'
# 3. Checkout
order=$(curl -s -X POST http://localhost:8000/cart/$cart_id/checkout)
order_id=$(echo $order | jq -r '.order_id')
total=$(echo $order | jq -r '.total')
echo "Order ID: $order_id, Total: $total"
# 4. Send to payments_server (assumes it's running on 5000)
curl -X POST http://localhost:5000/payments/orders \\
-H "Content-Type: application/json" \\
-d "{\\"order_id\\": \\"$order_id\\", \\"amount\\": $total}"
# 5. Check order status
sleep 1
curl http://localhost:8000/orders/$order_id | jq '.status'
`;

const execFileAsync = promisify(execFile);

/**
 * Runs the guide's script with its two base URLs replaced (a sandbox's store_url and payments_url
 * work as well as the roots) and checks that it prints the cart, the order and finally "paid".
 */
export async function runGuideScript(storeUrl: string, paymentsUrl: string): Promise<{ stdout: string; orderId: string; total: string }> {
  const script = GUIDE_FLOW_SCRIPT.replaceAll('http://localhost:8000', storeUrl).replaceAll('http://localhost:5000', paymentsUrl);
  const file = join(tempDir('flow-script-'), 'flow.sh');
  writeFileSync(file, script);
  const { stdout } = await execFileAsync('bash', [file], { timeout: 20_000 });
  expect(stdout).toMatch(/^Cart ID: [0-9a-f]{24,}$/m);
  const order = /Order ID: ([0-9a-f]{24,}), Total: (\d+(?:\.\d+)?)$/m.exec(stdout);
  expect(order, stdout).not.toBeNull();
  // jq's output ends the script. (Flask's jsonify ended the gateway's answer with a newline, which put
  // "paid" on a line of its own; without it, it follows the JSON on the same line.)
  expect(stdout.endsWith('"paid"\n'), stdout).toBe(true);
  return { stdout, orderId: order![1]!, total: order![2]! };
}

