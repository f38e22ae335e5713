/**
 * The dashboard's HTML shell (spec/sandboxes.md section 3): static markup that web/dashboard.js
 * fills from the JSON APIs. Nothing in it comes from a request or the database; the one
 * server-side fact is whether the page must ask for the admin key (section 5).
 */

/** What the shell needs to know: whether API calls need `Authorization: Bearer`, and the asset URLs. */
export interface ShellOptions {
  keyRequired: boolean;
  /** e.g. `/dashboard/dashboard.js?v=1a2b3c`: versioned, so they can be cached for good. */
  scriptUrl: string;
  styleUrl: string;
}

/** The full HTML document served at `GET /dashboard`. */
export function renderShell(options: ShellOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Store dashboard</title>
<link rel="stylesheet" href="${options.styleUrl}">
<script type="module" src="${options.scriptUrl}"></script>
</head>
<body data-admin-key="${options.keyRequired ? 'required' : 'none'}">
<header>
  <h1>Store dashboard</h1>
  <p id="status" role="status" aria-live="polite" data-testid="status"></p>
</header>
<main>
  <form id="key-form" data-testid="key-form" hidden>
    <h2>Admin key</h2>
    <p id="key-message" data-testid="key-message">This store needs its admin key (ADMIN_API_KEY). It is kept in this tab only.</p>
    <label for="key-input">Admin key</label>
    <input id="key-input" name="key" type="password" autocomplete="off" required data-testid="key-input">
    <button type="submit" data-testid="key-submit">Use this key</button>
  </form>

  <section id="sandboxes" aria-labelledby="sandboxes-title" hidden>
    <h2 id="sandboxes-title">Sandboxes</h2>
    <button type="button" id="sandboxes-refresh" data-testid="sandboxes-refresh">Refresh list</button>
    <table data-testid="sandboxes">
      <caption class="visually-hidden">Live sandboxes, default first</caption>
      <thead><tr><th scope="col">Sandbox</th><th scope="col">Clock</th><th scope="col">Products</th><th scope="col">Carts</th><th scope="col">Orders</th><th scope="col">Faults</th><th scope="col">Expires</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="detail" aria-labelledby="detail-title" hidden>
    <h2 id="detail-title">Sandbox <span data-testid="current-sandbox"></span></h2>
    <p>Clock: <span data-testid="clock"></span> <span data-testid="clock-mode"></span></p>
    <div class="controls">
      <button type="button" id="reset" data-testid="reset">Reset sandbox</button>
      <form id="snapshot-form">
        <label for="snapshot-name">Snapshot name</label>
        <input id="snapshot-name" required maxlength="64" data-testid="snapshot-name">
        <button type="submit" data-testid="snapshot-save">Save snapshot</button>
      </form>
      <form id="restore-form">
        <label for="restore-name">Snapshot</label>
        <select id="restore-name" required data-testid="restore-name"></select>
        <button type="submit" data-testid="restore">Restore</button>
      </form>
      <form id="clock-form">
        <label for="clock-seconds">Advance clock by (seconds)</label>
        <input id="clock-seconds" type="number" min="1" step="1" value="60" required data-testid="clock-seconds">
        <button type="submit" data-testid="clock-advance">Advance clock</button>
      </form>
    </div>
    <div class="panels">
      <section aria-labelledby="timeline-title" class="timeline">
        <h3 id="timeline-title">Timeline</h3>
        <p><span data-testid="stream-state">connecting</span> <label><input type="checkbox" id="hide-requests" data-testid="hide-requests"> hide requests</label></p>
        <table data-testid="timeline">
          <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Source</th><th scope="col">Event</th><th scope="col">Details</th></tr></thead>
          <tbody></tbody>
        </table>
      </section>
      <div>
        <section aria-labelledby="orders-title">
          <h3 id="orders-title">Orders</h3>
          <table data-testid="orders">
            <thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Total</th><th scope="col">Items</th><th scope="col">Created</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>
        <section aria-labelledby="payments-title">
          <h3 id="payments-title">Balance and payments</h3>
          <p>Balance: <strong data-testid="balance"></strong></p>
          <table data-testid="payments">
            <thead><tr><th scope="col">Payment</th><th scope="col">Order</th><th scope="col">Amount</th><th scope="col">Status</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>
        <section aria-labelledby="faults-title">
          <h3 id="faults-title">Active faults</h3>
          <table data-testid="faults">
            <thead><tr><th scope="col">Kind</th><th scope="col">Rule</th><th scope="col">Fired</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>
        <section aria-labelledby="stock-title">
          <h3 id="stock-title">Stock</h3>
          <table data-testid="stock">
            <thead><tr><th scope="col">Product</th><th scope="col">Name</th><th scope="col">Price</th><th scope="col">Stock</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>
      </div>
    </div>
  </section>
</main>
</body>
</html>
`;
}
