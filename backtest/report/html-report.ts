/**
 * The HTML report: one self-contained file that opens offline. TradingView's lightweight-charts
 * (standalone build) is inlined; the equity and drawdown curves and each symbol's candles with
 * its trade markers are embedded as JSON, next to the totals and the trade list.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChartBar } from './candle-thinner.js';
import type { CurvePoint } from './equity-tracker.js';

export interface ChartMarker {
  /** Epoch seconds, on a bar of the symbol's chart. */
  readonly time: number;
  readonly side: 'buy' | 'sell';
  readonly text: string;
}

export interface ReportCharts {
  readonly equity: readonly CurvePoint[];
  readonly drawdownPercent: readonly CurvePoint[];
  readonly symbols: Readonly<Record<string, { readonly bars: readonly ChartBar[]; readonly markers: readonly ChartMarker[] }>>;
}

/** The chart library's standalone build, read from the installed package. */
export function chartLibrarySource(): string {
  // The package exports only its module builds; the standalone build sits next to them in dist/.
  return readFileSync(join(dirname(fileURLToPath(import.meta.resolve('lightweight-charts'))), 'lightweight-charts.standalone.production.js'), 'utf8');
}

/** JSON safe inside a <script> element. */
function embed(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderHtmlReport(report: { readonly totals: Record<string, unknown> } & Record<string, unknown>, charts: ReportCharts, title = 'Tradewarden backtest'): string {
  const totals = Object.entries(report.totals)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v === null ? '—' : String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;padding:16px 24px;background:#0f1419;color:#e6e6e6}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}
.grid{display:grid;grid-template-columns:320px 1fr;gap:20px}
table{border-collapse:collapse;width:100%}th,td{padding:3px 8px;border-bottom:1px solid #2a3038;text-align:left;white-space:nowrap}
th{color:#9aa4ad;font-weight:500}.chart{height:300px;width:100%}.small{height:160px}
select{background:#1b2129;color:#e6e6e6;border:1px solid #2a3038;padding:4px}
.pos{color:#26a69a}.neg{color:#ef5350}.scroll{max-height:420px;overflow:auto}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="grid">
<div><h2>Totals</h2><table id="totals">${totals}</table>
<h2>Benchmark (buy and hold)</h2><div id="benchmark"></div></div>
<div><h2>Equity</h2><div id="equity" class="chart"></div><h2>Drawdown %</h2><div id="drawdown" class="chart small"></div></div>
</div>
<h2>Candles and trades <select id="symbol"></select></h2><div id="candles" class="chart"></div>
<h2>Trades</h2><div class="scroll"><table id="trades"></table></div>
<h2>By symbol</h2><table id="bySymbol"></table>
<h2>By strategy</h2><table id="byStrategy"></table>
<h2>Rejected and blocked signals</h2><div class="scroll"><table id="rejected"></table></div>
<script>${chartLibrarySource()}</script>
<script>
const REPORT = ${embed(report)};
const CHARTS = ${embed(charts)};
const LC = LightweightCharts;
const theme = { layout: { background: { color: '#0f1419' }, textColor: '#c8ced4' }, grid: { vertLines: { color: '#1d242c' }, horzLines: { color: '#1d242c' } }, timeScale: { timeVisible: true } };
function chart(id) { const el = document.getElementById(id); return LC.createChart(el, { ...theme, width: el.clientWidth, height: el.clientHeight }); }
const eq = chart('equity'); eq.addSeries(LC.LineSeries, { color: '#4fc3f7' }).setData(CHARTS.equity); eq.timeScale().fitContent();
const dd = chart('drawdown'); dd.addSeries(LC.AreaSeries, { lineColor: '#ef5350', topColor: 'rgba(239,83,80,0.05)', bottomColor: 'rgba(239,83,80,0.4)', invertFilledArea: true }).setData(CHARTS.drawdownPercent); dd.timeScale().fitContent();
const cc = chart('candles'); const candleSeries = cc.addSeries(LC.CandlestickSeries, {}); const markers = LC.createSeriesMarkers(candleSeries, []);
const select = document.getElementById('symbol');
for (const s of Object.keys(CHARTS.symbols)) { const o = document.createElement('option'); o.value = s; o.textContent = s; select.appendChild(o); }
function showSymbol(s) { const d = CHARTS.symbols[s]; if (!d) return; candleSeries.setData(d.bars);
  markers.setMarkers(d.markers.map(m => ({ time: m.time, position: m.side === 'buy' ? 'belowBar' : 'aboveBar', shape: m.side === 'buy' ? 'arrowUp' : 'arrowDown', color: m.side === 'buy' ? '#26a69a' : '#ef5350', text: m.text })));
  cc.timeScale().fitContent(); }
select.addEventListener('change', () => showSymbol(select.value)); showSymbol(select.value);
function table(id, rows, cols) { const t = document.getElementById(id); if (!rows.length) { t.innerHTML = '<tr><td>none</td></tr>'; return; }
  const head = '<tr>' + cols.map(c => '<th>' + c + '</th>').join('') + '</tr>';
  t.innerHTML = head + rows.map(r => '<tr>' + cols.map(c => { const v = r[c]; const cls = c === 'pnl' ? (Number(v) >= 0 ? 'pos' : 'neg') : ''; const text = v === null || v === undefined ? '—' : String(v); return '<td class="' + cls + '">' + text.replace(/[&<>]/g, x => ({'&':'&amp;','<':'&lt;','>':'&gt;'})[x]) + '</td>'; }).join('') + '</tr>').join(''); }
table('trades', REPORT.trades, ['symbol', 'entryStrategy', 'exitStrategy', 'entryTime', 'exitTime', 'entryPrice', 'exitPrice', 'amount', 'pnl', 'fees', 'returnPercent']);
table('bySymbol', Object.entries(REPORT.bySymbol || {}).map(([k, v]) => ({ symbol: k, ...v })), ['symbol', 'trades', 'pnl', 'fees', 'winRate']);
table('byStrategy', Object.entries(REPORT.byStrategy || {}).map(([k, v]) => ({ strategy: k, ...v })), ['strategy', 'trades', 'pnl', 'fees', 'winRate']);
table('rejected', REPORT.rejected || [], ['time', 'symbol', 'strategy', 'side', 'reason']);
document.getElementById('benchmark').textContent = 'return ' + REPORT.benchmark.returnPercent + ' %';
</script></body></html>
`;
}
