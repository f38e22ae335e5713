// The store dashboard (spec/sandboxes.md sections 3 and 5): the sandboxes; for one, its live
// timeline, orders, stock, balance, payments and faults, and buttons to reset, snapshot, restore
// and advance its clock. It talks to the store's JSON APIs only. Every text from an answer goes in
// with textContent (never innerHTML), and the page's Content-Security-Policy allows no other script.

const KEY_ITEM = 'store-dashboard.admin-key';
const MAX_TIMELINE_ROWS = 300;
/** Stock rows drawn at most: a custom catalog may hold 100,000 products. */
const MAX_STOCK_ROWS = 500;
const keyRequired = document.body.dataset.adminKey === 'required';
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The admin key for this tab (sessionStorage: asked for once, gone when the tab closes). */
let adminKey = sessionStorage.getItem(KEY_ITEM);
/** The sandbox shown, and what stops its event stream when another is chosen. */
let current = null;

/** Raised when the store refuses the key: the key form is shown again and the work stops. */
class KeyRefused extends Error {}

function say(message, isError = false) {
  const status = $('status');
  status.textContent = message;
  status.classList.toggle('error', isError);
}

/** A new element with text or child nodes; strings become text nodes, never markup. */
function el(tag, children = [], attributes = {}) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children.map((child) => (child instanceof Node ? child : String(child ?? ''))));
  return node;
}

function fillRows(testid, rows, emptyText) {
  const body = $(testid).tBodies[0];
  const columns = $(testid).tHead.rows[0].cells.length;
  body.replaceChildren(...(rows.length ? rows : [el('tr', [el('td', [emptyText], { colspan: String(columns), class: 'empty' })])]));
}

const headers = (extra = {}) => (adminKey ? { ...extra, authorization: `Bearer ${adminKey}` } : extra);
const sandboxPath = (id, rest = '') => `/sandboxes/${encodeURIComponent(id)}${rest}`;

function askForKey(message) {
  adminKey = null;
  sessionStorage.removeItem(KEY_ITEM);
  stopStream();
  $('key-message').textContent = message;
  $('key-form').hidden = false;
  document.getElementById('sandboxes').hidden = true;
  document.getElementById('detail').hidden = true;
  $('key-input').focus();
}

/** A JSON API call with the key; an error answer throws its `detail` as the message. */
async function api(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  if (res.status === 401) {
    askForKey('The store refused that key. Enter the admin key again.');
    throw new KeyRefused();
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const detail = data?.detail;
    // The store's errors are {"detail": text}, or for invalid input a list of {loc, msg} issues.
    const text = typeof detail === 'string' ? detail
      : Array.isArray(detail) ? detail.map((issue) => `${issue.loc?.slice(1).join('.')}: ${issue.msg}`).join('; ') : `answered ${res.status}`;
    throw new Error(`${method} ${path}: ${text}`);
  }
  return data;
}

/** Runs a user action and reports its outcome in the status line. */
async function attempt(action, done) {
  try {
    await action();
    if (done) say(done);
  } catch (error) {
    if (!(error instanceof KeyRefused)) say(error.message, true);
  }
}

async function loadSandboxes() {
  const list = await api('GET', '/sandboxes');
  fillRows('sandboxes', list.map((box) => {
    const open = el('a', [box.sandbox_id], { href: `#${encodeURIComponent(box.sandbox_id)}`, 'data-testid': `open-${box.sandbox_id}` });
    return el('tr', [
      el('th', [open], { scope: 'row' }), el('td', [when(box.clock.now)]), el('td', [box.counts.products]), el('td', [box.counts.carts]),
      el('td', [box.counts.orders]), el('td', [box.faults.length]), el('td', [box.expires_at ? when(box.expires_at) : 'never']),
    ]);
  }), 'No sandboxes');
  markCurrent();
  document.getElementById('sandboxes').hidden = false;
}

/** Marks the link of the sandbox shown (aria-current), for screen readers and the eye alike. */
function markCurrent() {
  for (const link of document.querySelectorAll('[data-testid^="open-"]')) {
    if (link.textContent === current?.id) link.setAttribute('aria-current', 'true');
    else link.removeAttribute('aria-current');
  }
}

/** An ISO 8601 instant as a <time>: "2026-01-01 12:00:00" (or only the time of day), the full value in its datetime. */
function when(iso, timeOnly = false) {
  const text = iso.replace('T', ' ').slice(timeOnly ? 11 : 0, timeOnly ? 23 : 19);
  return el('time', [text], { datetime: iso, title: iso });
}

/** Cell classes: ids may break anywhere, numbers never (web/dashboard.css). */
const ID = { class: 'id' };
const NUM = { class: 'num' };
const money = (value) => (typeof value === 'number' ? value.toFixed(2) : String(value ?? ''));

/** One line of `data` for the timeline: a request as "GET /products → 200 (3 ms)", others as key=value. */
function summary(event) {
  const data = event.data ?? {};
  if (event.type === 'request') return `${data.method} ${data.path} → ${data.status} (${data.ms} ms)`;
  return Object.entries(data).map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : value}`).join(' ');
}

function addEvent(event) {
  const row = el('tr', [el('td', [event.seq]), el('td', [when(event.at, true)]), el('td', [event.source]), el('td', [event.type]), el('td', [summary(event)])], {
    'data-type': event.type,
  });
  if (event.type === 'request') row.classList.add('request');
  const body = $('timeline').tBodies[0];
  body.querySelector('td.empty')?.parentElement.remove();
  body.prepend(row);
  while (body.rows.length > MAX_TIMELINE_ROWS) body.lastElementChild.remove();
}

/** One Server-Sent Events frame (`id:`, `event:`, `data:` lines; `:` comments are heartbeats). */
function parseFrame(frame) {
  const fields = { data: [] };
  for (const line of frame.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') fields.data.push(value);
    else fields[name] = value;
  }
  return fields.data.length ? { id: fields.id, event: JSON.parse(fields.data.join('\n')) } : null;
}

/**
 * Follows the sandbox's timeline: GET /sandboxes/{id}/events with `Accept: text/event-stream`,
 * read with fetch (EventSource cannot send the Authorization header), reconnecting with
 * Last-Event-ID after a drop so no event is shown twice or missed.
 */
async function follow(view) {
  let lastId = null;
  while (!view.stop.signal.aborted) {
    try {
      const extra = { accept: 'text/event-stream' };
      if (lastId !== null) extra['last-event-id'] = lastId;
      const res = await fetch(sandboxPath(view.id, '/events'), { headers: headers(extra), signal: view.stop.signal });
      if (res.status === 401) return askForKey('The store refused that key. Enter the admin key again.');
      if (res.status === 404) {
        // Deleted (the stream ends then too): nothing more will come.
        if (current === view) $('stream-state').textContent = 'ended: sandbox not found';
        return undefined;
      }
      if (!res.ok || !res.body) throw new Error(`events answered ${res.status}`);
      if (current === view) $('stream-state').textContent = 'live';
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (!frame) continue;
          if (frame.id !== undefined) lastId = frame.id;
          view.onEvent(frame.event);
        }
      }
    } catch (error) {
      if (view.stop.signal.aborted) return;
      console.warn('event stream dropped', error);
    }
    if (current === view) $('stream-state').textContent = 'reconnecting…';
    await sleep(1000);
  }
}

function stopStream() {
  current?.stop.abort();
  current = null;
}

function renderState(state, info, snapshots) {
  $('clock').replaceChildren(when(info.clock.now));
  $('clock-mode').textContent = info.clock.frozen ? '(frozen: moves only when advanced)' : '(follows real time)';
  // The canonical state lists orders by id; people read them newest first.
  const orders = [...state.orders].sort((a, b) => b.created_at.localeCompare(a.created_at));
  fillRows('orders', orders.map((order) => el('tr', [
    el('td', [order.order_id], ID), el('td', [order.status], { 'data-status': order.status }), el('td', [money(order.total)], NUM),
    el('td', [order.items.map((item) => `${item.quantity} × ${item.name}`).join(', ')]), el('td', [when(order.created_at)]),
  ], { 'data-order': order.order_id })), 'No orders');
  const products = state.catalog.products;
  const stock = products.slice(0, MAX_STOCK_ROWS).map((product) => el('tr', [
    el('td', [product.id], NUM), el('td', [product.name]), el('td', [money(product.price)], NUM), el('td', [product.stock], NUM),
  ]));
  if (products.length > MAX_STOCK_ROWS) stock.push(el('tr', [el('td', [`… and ${products.length - MAX_STOCK_ROWS} more products`], { colspan: '4', class: 'empty' })]));
  fillRows('stock', stock, 'No products');
  $('balance').textContent = money(state.gateway.balance);
  fillRows('payments', [...state.gateway.payments].reverse().map((payment) => el('tr', [
    el('td', [payment.payment_id], ID), el('td', [payment.order_id], ID), el('td', [money(payment.amount)], NUM),
    el('td', [payment.reason ? `${payment.status} (${payment.reason})` : payment.status]),
  ])), 'No payments');
  fillRows('faults', info.faults.map((rule) => {
    // `fired` is null when the gateway, which counts its own rules, does not answer.
    const { index: _index, kind, fired, ...rest } = rule;
    return el('tr', [el('td', [kind]), el('td', [JSON.stringify(rest)], ID), el('td', [fired ?? 'unknown'], NUM)]);
  }), 'No active faults');
  const select = $('restore-name');
  const options = snapshots.map((snapshot) => el('option', [`${snapshot.name} (saved ${snapshot.created_at.replace('T', ' ').slice(0, 19)})`], { value: snapshot.name }));
  select.replaceChildren(...(options.length ? options : [el('option', ['no snapshots yet'], { value: '' })]));
  $('restore').disabled = snapshots.length === 0;
}

/**
 * Reads the sandbox's state, details and snapshots again and redraws them, with the sandbox list
 * (its counts change too); a no-op once another sandbox is shown.
 */
async function refresh(view) {
  const [state, info, snapshots] = await Promise.all([
    api('GET', sandboxPath(view.id, '/state')), api('GET', sandboxPath(view.id)), api('GET', sandboxPath(view.id, '/snapshots')), loadSandboxes(),
  ]);
  if (current === view) renderState(state.state, info, snapshots);
}

/**
 * Shows one sandbox: its details now, then live. State-changing events are coalesced: one redraw
 * at most every 250 ms, and always one more after the last change, so a busy run neither floods
 * the store with reads nor leaves the tables behind.
 */
function open(id) {
  stopStream();
  const view = { id, stop: new AbortController(), dirty: false, redrawing: false };
  current = view;
  const redraw = () => attempt(() => refresh(view));
  view.onEvent = async (event) => {
    addEvent(event);
    // A read changes nothing: only other events (and requests that may write) redraw the tables.
    if (event.type === 'request' && event.data?.method === 'GET') return;
    view.dirty = true;
    if (view.redrawing) return;
    view.redrawing = true;
    while (view.dirty && current === view) {
      view.dirty = false;
      await sleep(250);
      await redraw();
    }
    view.redrawing = false;
  };
  $('current-sandbox').textContent = id;
  fillRows('timeline', [], 'No events yet');
  $('stream-state').textContent = 'connecting';
  document.getElementById('detail').hidden = false;
  markCurrent();
  redraw();
  follow(view);
}

function route() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (id) open(id);
  else {
    stopStream();
    document.getElementById('detail').hidden = true;
  }
}

function start() {
  $('key-form').hidden = true;
  attempt(async () => {
    await loadSandboxes();
    route();
  });
}

/** A button's action on the sandbox shown, then its tables drawn again (not waiting for the event). */
function act(action, done) {
  const view = current;
  return attempt(async () => {
    await action();
    await refresh(view);
  }, done);
}

function onSubmit(form, handler) {
  document.getElementById(form).addEventListener('submit', (event) => {
    event.preventDefault();
    handler();
  });
}

onSubmit('key-form', () => {
  adminKey = $('key-input').value.trim();
  $('key-input').value = '';
  sessionStorage.setItem(KEY_ITEM, adminKey);
  start();
});
$('sandboxes-refresh').addEventListener('click', () => attempt(loadSandboxes, 'Sandbox list refreshed'));
$('reset').addEventListener('click', () => {
  const id = current?.id;
  if (!id || !confirm(`Reset sandbox ${id}? Its carts, orders and payments are deleted and its stock and balance start over.`)) return;
  act(() => api('POST', sandboxPath(id, '/reset')), `Sandbox ${id} reset`);
});
onSubmit('snapshot-form', () => {
  const id = current?.id;
  const name = $('snapshot-name').value.trim();
  act(() => api('POST', sandboxPath(id, '/snapshots'), { name }), `Snapshot ${name} saved`);
});
onSubmit('restore-form', () => {
  const id = current?.id;
  const name = $('restore-name').value;
  if (!confirm(`Restore sandbox ${id} to snapshot ${name}? Everything since is lost.`)) return;
  act(() => api('POST', sandboxPath(id, `/snapshots/${encodeURIComponent(name)}/restore`)), `Snapshot ${name} restored`);
});
onSubmit('clock-form', () => {
  const id = current?.id;
  const seconds = Number($('clock-seconds').value);
  act(() => api('POST', sandboxPath(id, '/clock'), { advance_seconds: seconds }), `Clock of ${id} advanced by ${seconds} s`);
});
$('hide-requests').addEventListener('change', (event) => $('timeline').classList.toggle('hide-requests', event.target.checked));
window.addEventListener('hashchange', route);

if (keyRequired && !adminKey) askForKey('This store needs its admin key (ADMIN_API_KEY). It is kept in this tab only.');
else start();
