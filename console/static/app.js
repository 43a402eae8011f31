// The console page: panels filled from the JSON API, live updates from /api/live (server-sent
// events), charts by TradingView lightweight-charts (global LightweightCharts).
'use strict';

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const LC = window.LightweightCharts;

// Amounts are decimal strings; they are rounded here for display only.
function fmt(value, places = 2) {
  if (value === null || value === undefined || value === '') return '–';
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const digits = Math.abs(n) !== 0 && Math.abs(n) < 1 ? Math.max(places, 6) : places;
  return n.toLocaleString('en-US', { minimumFractionDigits: places, maximumFractionDigits: digits });
}
const signClass = (v) => (v === null || v === undefined ? '' : Number(v) < 0 ? 'neg' : Number(v) > 0 ? 'pos' : '');
const time = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
function fillTable(id, rows) {
  const body = $(id).querySelector('tbody');
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    tr.append(...cells);
    return tr;
  }));
}

async function api(path, init = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    err.body = body;
    throw err;
  }
  return body;
}
const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });

// Charts.
const chartOptions = { autoSize: true, layout: { background: { color: '#ffffff' }, textColor: '#1f2328' }, timeScale: { timeVisible: true, secondsVisible: true }, grid: { vertLines: { color: '#f0f0f0' }, horzLines: { color: '#f0f0f0' } } };
const equityChart = LC.createChart($('equity-chart'), chartOptions);
const equitySeries = equityChart.addSeries(LC.LineSeries, { color: '#0969da', lineWidth: 2 });
const equityMarkers = LC.createSeriesMarkers(equitySeries, []);
const candleChart = LC.createChart($('candle-chart'), chartOptions);
const candleSeries = candleChart.addSeries(LC.CandlestickSeries, {});
const candleMarkers = LC.createSeriesMarkers(candleSeries, []);

function toMarkers(markers, times) {
  // A marker sits on the nearest point at or before its time so it lands on the series.
  const sorted = [...times].sort((a, b) => a - b);
  const out = [];
  for (const m of markers) {
    let at = sorted[0];
    for (const t of sorted) if (t <= m.time) at = t;
    if (at === undefined) continue;
    out.push({ time: at, position: m.side === 'buy' ? 'belowBar' : 'aboveBar', color: m.side === 'buy' ? '#1a7f37' : '#cf222e', shape: m.side === 'buy' ? 'arrowUp' : 'arrowDown', text: `${m.side} ${m.symbol}` });
  }
  return out.sort((a, b) => a.time - b.time);
}

async function loadEquity() {
  const data = await api('/api/equity');
  const points = [];
  for (const p of data.points) if (!points.length || points[points.length - 1].time < p.time) points.push({ time: p.time, value: Number(p.equity) });
  equitySeries.setData(points);
  equityMarkers.setMarkers(toMarkers(data.markers, points.map((p) => p.time)));
  $('equity-count').textContent = `${points.length} snapshots, ${data.markers.length} fills`;
  $('equity-chart').dataset.points = String(points.length);
  $('equity-chart').dataset.markers = String(data.markers.length);
  equityChart.timeScale().fitContent();
}

async function loadCandles() {
  const symbol = $('symbol').value;
  if (!symbol) return;
  const data = await api(`/api/candles?symbol=${encodeURIComponent(symbol)}`);
  const candles = data.candles.map((k) => ({ time: k.time, open: Number(k.open), high: Number(k.high), low: Number(k.low), close: Number(k.close) }));
  candleSeries.setData(candles);
  candleMarkers.setMarkers(toMarkers(data.markers, candles.map((k) => k.time)));
  $('candle-count').textContent = `${candles.length} candles, ${data.markers.length} fills`;
  $('candle-chart').dataset.points = String(candles.length);
}

async function showHistory(id) {
  $('history-id').value = id;
  $('history-error').hidden = true;
  try {
    const h = await api(`/api/history/${encodeURIComponent(id)}`);
    fillTable('history', h.records.map((r) => [cell(time(r.at)), cell(r.type), cell(`${r.stream} #${r.seq}`), cell(JSON.stringify(r.data))]));
    if (!h.records.length) throw new Error(`no audit records for ${id}`);
  } catch (error) {
    $('history-error').textContent = error.message;
    $('history-error').hidden = false;
  }
}

let symbolsLoaded = false;
function render(o) {
  $('mode').textContent = `${o.mode} · ${o.exchange} · ${o.dataSource} data`;
  const h = o.health;
  $('health-badge').textContent = `health ${h.status}`;
  $('health-badge').className = `badge ${h.status}`;
  $('health-status').textContent = `${h.status} at ${time(h.at)}`;
  $('health-reasons').replaceChildren(...h.reasons.map((r) => Object.assign(document.createElement('li'), { textContent: r })));
  $('dlq-depth').textContent = String(h.dlqDepth);
  $('circuits').textContent = h.circuits.length ? h.circuits.map((c) => `${c.name} ${c.state}`).join(', ') : 'all closed';
  fillTable('heartbeats', h.heartbeats.map((b) => [cell(b.job), cell(time(b.lastSuccess)), cell(b.lastOutcome ?? 'never run'), cell(b.lastDurationMs ?? '–', 'num')]));
  const paused = o.pause.active;
  $('pause-badge').textContent = paused ? `PAUSED: ${o.pause.reason ?? ''} (${o.pause.author ?? '?'})` : 'running';
  $('pause-badge').className = `badge ${paused ? 'paused' : 'running'}`;
  $('pause-badge').dataset.paused = String(paused);
  $('equity-now').textContent = o.equity === null ? '' : `equity ${fmt(o.equity)} ${o.currency}`;
  fillTable('positions', o.positions.map((p) => [cell(p.symbol), cell(fmt(p.qty, 6), 'num'), cell(fmt(p.avgPrice, 4), 'num'), cell(fmt(p.price, 4), 'num'), cell(fmt(p.unrealizedPnl), `num ${signClass(p.unrealizedPnl)}`), cell(fmt(p.realizedPnl), `num ${signClass(p.realizedPnl)}`)]));
  $('ledger').textContent = o.ledger ? `ledger ${o.currency}: total ${fmt(o.ledger.total)} · available ${fmt(o.ledger.available)} · reserved ${fmt(o.ledger.reserved)} · committed ${fmt(o.ledger.committed)}` : 'no ledger yet';
  fillTable('orders', o.orders.map((x) => {
    const link = document.createElement('button');
    link.type = 'button';
    link.textContent = 'history';
    link.addEventListener('click', () => void showHistory(x.correlationId));
    const td = cell('');
    td.append(link);
    if (CANCELABLE.has(x.state)) {
      const cancel = document.createElement('button');
      cancel.type = 'button';
      cancel.className = 'danger';
      cancel.textContent = 'cancel';
      cancel.dataset.cancel = x.id;
      cancel.addEventListener('click', () => cancelOrder(x));
      td.append(' ', cancel);
    }
    return [cell(time(x.createdAt)), cell(x.symbol), cell(x.side, x.side), cell(x.state, 'state'), cell(fmt(x.amount, 6), 'num'), cell(fmt(x.filled, 6), 'num'), cell(fmt(x.price, 4), 'num'), cell(x.fees.map((f) => `${fmt(f.amount, 4)} ${f.currency}`).join(', ') || '–', 'num'), cell(x.reason ?? ''), td];
  }));
  fillTable('control', o.control.slice().reverse().map((r) => [cell(time(r.at)), cell(r.type), cell(r.data.author ?? ''), cell(r.data.reason ?? r.data.key ?? '')]));
  if (!symbolsLoaded) {
    symbolsLoaded = true;
    $('symbol').replaceChildren(...o.watchlist.map((s) => Object.assign(document.createElement('option'), { value: s, textContent: s })));
    void loadCandles();
  }
  document.body.dataset.loaded = 'true';
}

async function loadTunables() {
  $('tunables').textContent = JSON.stringify(await api('/api/tunables'), null, 2);
}

function notice(text) {
  $('action-result').textContent = text;
  $('action-result').hidden = false;
}

// Orders the exchange may still hold: a cancel goes through the same use case as `ops cancel`.
const CANCELABLE = new Set(['SUBMITTING', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED', 'UNKNOWN']);

// A cancel's result as one line: what became of the order, or why the cancel failed.
function cancelLine(r) {
  return r.ok ? `${r.orderId}: ${r.outcome}${r.state ? ` (${r.state})` : ''}` : `${r.orderId}: FAILED ${r.outcome} ${r.error ? `${r.error.code} ${r.error.message}` : ''}`;
}

function cancelOrder(order) {
  const reason = window.prompt(`Cancel order ${order.id} (${order.side} ${order.symbol})? Reason?`);
  if (reason) void act('/api/actions/cancel', { orderId: order.id, reason }, (r) => `cancel ${cancelLine(r)}`);
}

async function act(path, body, done) {
  try {
    const result = await post(path, { ...body, confirm: true });
    notice(typeof done === 'function' ? done(result) : done);
    render(await api('/api/overview'));
  } catch (error) {
    notice(`refused: ${error.message}`);
  }
}

$('pause-btn').addEventListener('click', () => {
  const reason = window.prompt('Pause trading: no new intents until resumed. Reason?');
  if (reason) void act('/api/actions/pause', { reason }, `paused: ${reason}`);
});
$('resume-btn').addEventListener('click', () => {
  if (window.confirm('Resume trading?')) void act('/api/actions/resume', {}, 'resumed');
});
$('stop-btn').addEventListener('click', () => {
  const reason = window.prompt('EMERGENCY STOP: pause and cancel every open order. Reason?');
  if (reason && window.confirm(`Cancel every open order now (${reason})?`)) void act('/api/actions/emergency-stop', { reason }, (r) => `emergency stop (${reason}): canceled ${r.canceled}, filled before the cancel ${r.filled}, failed ${r.failures.length}${r.failures.map((f) => `; ${cancelLine(f)}`).join('')}`);
});
$('symbol').addEventListener('change', () => void loadCandles());
$('history-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void showHistory($('history-id').value.trim());
});
$('tunable-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('tunable-error').hidden = true;
  try {
    await post('/api/actions/tunables', { key: $('tunable-key').value.trim(), value: $('tunable-value').value.trim() });
    notice(`set ${$('tunable-key').value.trim()}`);
    await loadTunables();
  } catch (error) {
    $('tunable-error').textContent = error.message;
    $('tunable-error').hidden = false;
  }
});

// Live: the overview every few seconds; the charts on every tenth update.
let updates = 0;
function connect() {
  const source = new EventSource('/api/live');
  source.addEventListener('overview', (e) => {
    $('live').textContent = `live ${new Date().toLocaleTimeString()}`;
    render(JSON.parse(e.data));
    updates += 1;
    if (updates % 10 === 0) {
      void loadEquity();
      void loadCandles();
    }
  });
  source.addEventListener('failure', (e) => {
    $('live').textContent = `update failed: ${JSON.parse(e.data).error.message}`;
  });
  source.onerror = () => {
    $('live').textContent = 'disconnected, retrying…';
  };
}

void api('/api/overview').then(render);
void loadEquity();
void loadTunables();
connect();
