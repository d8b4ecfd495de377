// The Endpoint tab: the models behind `sagebox endpoint serve`, from /api/endpoint/endpoints
// and /api/endpoint/models?endpoint=NAME (docs/api.md). A header line, a sortable table of
// models, a bar chart of each model's share of the endpoint's cost against one endpoint per
// model, refreshed every 5 s while the tab is shown and the browser tab is visible.
// A server without an endpoint answers 404 on those paths: the tab then says how to start one.
import { ApiError, getJson, probeList } from './api.js';
import { compareDec, displayDec, formatDec, parseDec } from './decimal.js';
import { PALETTE, begin, clearError, destroyCharts, drawChart, fail, figure, h, option, publish, ready, showError } from './ui.js';

export const REFRESH_MS = 5000;
const START_HINT = 'sagebox endpoint serve --models DIR';

// ---- formatting ----------------------------------------------------------------------------
// As core/bytes.cc FormatBytes: binary units, one decimal, "8 GiB" rather than "8.0 GiB".
export function formatBytes(n) {
  if (n === null || n === undefined) return '—';
  const names = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} B`;
  let v = n;
  let k = 0;
  while (v >= 1024 && k + 1 < names.length) {
    v /= 1024;
    k++;
  }
  let s = v.toFixed(1);
  if (s.endsWith('.0')) s = s.slice(0, -2);
  return `${s} ${names[k]}`;
}

export function formatUptime(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d) return `${d} d ${hh} h`;
  if (hh) return `${hh} h ${String(mm).padStart(2, '0')} min`;
  if (mm) return `${mm} min ${String(ss).padStart(2, '0')} s`;
  return `${ss} s`;
}

// Microseconds as milliseconds; '—' before the first request (the API then says 0).
function formatMs(us, requests) {
  if (!requests || us === null || us === undefined) return '—';
  const ms = us / 1000;
  if (ms < 10) return ms.toFixed(2);
  if (ms < 1000) return ms.toFixed(1);
  return Math.round(ms).toLocaleString('en-US');
}

function ratioText(hits, misses) {
  const n = (hits || 0) + (misses || 0);
  return n ? `${((100 * hits) / n).toFixed(1)}%` : '—';
}

// Money fields are decimal strings (or null/absent for a model never used): shown with
// four decimals, the exact string kept in data-amount and the tooltip.
const usd = (s) => (s === null || s === undefined ? '—' : `$${displayDec(s, 4)}`);

// ---- the table's columns ---------------------------------------------------------------------
// kind: how the column sorts ('text', 'num', 'dec' for decimal strings).
const COLUMNS = [
  { id: 'name', label: 'Model', kind: 'text', cls: 'rowhead', cell: (m) => m.name },
  { id: 'state', label: 'State', kind: 'text', cls: 'text', cell: (m) => h('span', { class: `badge state-${m.state}` }, m.state) },
  { id: 'backend', label: 'Backend', kind: 'text', cls: 'text', cell: (m) => m.backend || '—' },
  { id: 'bytes', label: 'Memory', kind: 'num', title: 'Bytes in memory now (predicted before the first load)', cell: (m) => (m.bytes ? formatBytes(m.bytes) : m.predicted_bytes ? `~${formatBytes(m.predicted_bytes)}` : '—') },
  { id: 'hits', label: 'Hits', kind: 'num', cell: (m) => String(m.hits ?? 0) },
  { id: 'misses', label: 'Misses', kind: 'num', cell: (m) => String(m.misses ?? 0) },
  { id: 'hit_ratio', label: 'Hit ratio', kind: 'num', cell: (m) => ratioText(m.hits, m.misses) },
  { id: 'requests', label: 'Requests', kind: 'num', cell: (m) => String(m.requests ?? 0) },
  { id: 'errors', label: 'Errors', kind: 'num', cell: (m) => String(m.errors ?? 0) },
  { id: 'p50_us', label: 'p50 ms', kind: 'num', cell: (m) => formatMs(m.p50_us, m.requests) },
  { id: 'p99_us', label: 'p99 ms', kind: 'num', cell: (m) => formatMs(m.p99_us, m.requests) },
  { id: 'queue_depth', label: 'Queue', kind: 'num', cell: (m) => String(m.queue_depth ?? 0) },
  { id: 'cost_usd', label: 'Cost $', kind: 'dec', title: "The endpoint's cost so far, shared by busy time", cell: (m) => usd(m.cost_usd) },
  { id: 'cost_per_1000_requests_usd', label: '$/1k req', kind: 'dec', cell: (m) => usd(m.cost_per_1000_requests_usd) },
  { id: 'dedicated_endpoint_usd', label: 'Dedicated $', kind: 'dec', title: 'One endpoint of its own for the same time', cell: (m) => usd(m.dedicated_endpoint_usd) },
];

// Sorts a copy of `models` by column `col`; missing values (a model never used has no cost)
// go last whichever the direction, so the interesting rows stay on top.
export function sortModels(models, col, desc) {
  const c = COLUMNS.find((x) => x.id === col) || COLUMNS[0];
  const missing = (v) => v === null || v === undefined || v === '';
  const cmp = (a, b) => {
    if (c.kind === 'dec') return compareDec(a, b);
    if (c.kind === 'num') return Number(a) - Number(b);
    return String(a).localeCompare(String(b));
  };
  return models.slice().sort((x, y) => {
    const a = x[c.id];
    const b = y[c.id];
    if (missing(a) || missing(b)) return missing(a) - missing(b) || x.name.localeCompare(y.name);
    return (desc ? -cmp(a, b) : cmp(a, b)) || x.name.localeCompare(y.name);
  });
}

// ---- the view ----------------------------------------------------------------------------------
// Kept between visits: the sort order the user chose.
const sort = { col: 'name', desc: false };
// The shown view: timer and DOM; null when the tab is not shown.
let live = null;

function noEndpoint(main, message) {
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-endpoint' },
    h('div', { class: 'empty', 'data-testid': 'endpoint-none' },
      h('p', {}, message),
      h('p', {}, 'Start one with ', h('code', {}, START_HINT), ' (a folder of Triton model folders or archives); this tab then shows its models, cache and cost.'))));
  publish('endpoint', null, null, { endpoint: null });
}

// The module's load(): whether this server serves endpoints at all. A 404 is an answer
// (no endpoint), not an error; anything else fails the tab as usual.
export const loadEndpointModule = () => probeList('/api/endpoint/endpoints', 'endpoints');

export function endpointStatus(ctx) {
  if (!ctx || !ctx.available) return 'no endpoint served';
  return `${ctx.count} endpoint${ctx.count === 1 ? '' : 's'} · refreshed every ${REFRESH_MS / 1000} s`;
}

export function showEndpoint({ main, params, navigate, ctx }) {
  leaveEndpoint();
  destroyCharts(); // the previous view's, whose canvas is about to go
  const isCurrent = begin();
  if (ctx && !ctx.available) {
    noEndpoint(main, 'No endpoint is being served by this server.');
    ready(isCurrent);
    return;
  }
  const picker = h('span', { class: 'controls' });
  const figs = h('div', { class: 'figures endpoint-figs', 'data-testid': 'endpoint-header' });
  const table = h('div', { class: 'table-wrap endpoint-models' });
  const canvas = h('canvas', { 'data-testid': 'endpoint-cost-chart' });
  const note = h('p', { class: 'muted small', 'data-testid': 'endpoint-note' });
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-endpoint' },
    picker, figs, table,
    h('h3', { class: 'chart-title' }, 'Cost per model: this shared endpoint against one endpoint per model'),
    h('div', { class: 'chart-box small' }, canvas), note));
  live = { timer: null, alive: true, refreshes: 0, wanted: params.get('endpoint') || '', data: null };
  const me = live;
  const schedule = () => {
    if (!me.alive) return;
    me.timer = setTimeout(tick, REFRESH_MS);
  };
  // A hidden browser tab skips the request; becoming visible refreshes at once.
  const tick = async () => {
    me.timer = null;
    if (!me.alive) return;
    // hidden browser tab, or the router already moved on (leave() comes once the next
    // module has loaded): no request
    if (document.hidden || !location.hash.startsWith('#/endpoint')) return schedule();
    try {
      await refresh(me, { picker, figs, table, canvas, note, navigate });
      if (!me.alive) return;
      if (isCurrent()) clearError();
      ready(isCurrent);
    } catch (err) {
      if (!me.alive) return;
      if (err.noEndpoint && me.data === null) {
        noEndpoint(main, 'No endpoint is being served by this server.');
        ready(isCurrent);
        me.alive = false; // the server has no endpoint module: nothing will change
        return;
      }
      // keep the last numbers on screen and say why they stopped changing
      if (me.refreshes === 0) fail(isCurrent, err);
      else if (isCurrent()) {
        showError(err);
        document.body.dataset.state = 'error';
      }
    }
    schedule();
  };
  me.onVisible = () => {
    if (!document.hidden && me.alive && me.timer !== null) {
      clearTimeout(me.timer);
      tick();
    }
  };
  document.addEventListener('visibilitychange', me.onVisible);
  tick();
}

export function leaveEndpoint() {
  if (!live) return;
  live.alive = false;
  if (live.timer !== null) clearTimeout(live.timer);
  document.removeEventListener('visibilitychange', live.onVisible);
  live = null;
}

async function refresh(me, dom) {
  let list;
  try {
    list = (await getJson('/api/endpoint/endpoints')).endpoints || [];
  } catch (err) {
    // 404 here means no endpoint module; a 404 for one endpoint's models is an error
    if (err instanceof ApiError && err.status === 404) err.noEndpoint = true;
    throw err;
  }
  if (!me.alive) return;
  // the top bar's status was computed when the tab first loaded; endpoints come and go
  const meta = document.getElementById('meta');
  if (meta) meta.textContent = endpointStatus({ available: true, count: list.length });
  if (!list.length) {
    dom.picker.replaceChildren();
    dom.figs.replaceChildren(h('div', { class: 'empty', 'data-testid': 'endpoint-none' },
      'This server has no endpoints left (all were deleted). Create one with the SageMaker CreateEndpoint call or start ', h('code', {}, START_HINT), '.'));
    dom.table.replaceChildren();
    dom.note.replaceChildren();
    me.data = { endpoints: [] };
    publish('endpoint', null, null, { endpoint: null, refreshes: ++me.refreshes });
    return;
  }
  const ep = list.find((e) => e.name === me.wanted) || list[0];
  const m = await getJson('/api/endpoint/models', { endpoint: ep.name });
  if (!me.alive) return;
  me.data = { ep, m };
  renderPicker(dom, list, ep);
  renderHeader(dom.figs, ep, m);
  renderTable(dom.table, m.models || []);
  const series = renderChart(dom.canvas, m.models || []);
  dom.note.textContent = `Cost so far: the instance's price × uptime, shared among the models by the time each spent running requests. ` +
    `"Dedicated" is what one endpoint per model would have cost over the same time. Price: ${m.price_source || 'unknown'}.`;
  me.refreshes++;
  publish('endpoint', series, { endpoint: ep.name }, {
    endpoint: {
      name: ep.name,
      refreshes: me.refreshes,
      endpoints: list.map((e) => e.name),
      models: (m.models || []).map((x) => ({ name: x.name, requests: x.requests, hits: x.hits, misses: x.misses })),
    },
  });
}

function renderPicker(dom, list, ep) {
  if (list.length < 2) {
    dom.picker.replaceChildren();
    return;
  }
  const sel = h('select', {
    'data-testid': 'endpoint-picker',
    'aria-label': 'Endpoint',
    onchange: () => dom.navigate(`#/endpoint/models?${new URLSearchParams({ endpoint: sel.value })}`),
  }, list.map((e) => option(e.name, `${e.name} (${e.instance_type})`, e.name === ep.name)));
  dom.picker.replaceChildren(h('label', {}, 'Endpoint ', sel));
}

function renderHeader(figs, ep, m) {
  const budget = ep.memory_budget_bytes || 0;
  const used = ep.memory_used_bytes || 0;
  const pct = budget ? Math.min(100, (100 * used) / budget) : 0;
  const price = m.usd_per_hour === null || m.usd_per_hour === undefined ? 'unknown' : `$${m.usd_per_hour}/h`;
  let saved = null;
  try {
    saved = formatDec(parseDec(m.dedicated_endpoints_cost_usd) - parseDec(m.endpoint_cost_usd));
  } catch {
    // a missing total: no saving shown
  }
  const memory = h('div', { class: 'figure memory', 'data-testid': 'endpoint-memory', 'data-used': String(used), 'data-budget': String(budget) },
    h('div', { class: 'figure-label' }, 'Memory used / budget'),
    h('div', { class: 'figure-value' }, `${formatBytes(used)} / ${formatBytes(budget)}`),
    h('span', { class: 'bar-track', title: `${used} of ${budget} bytes (${pct.toFixed(1)}%)` },
      h('span', { class: `bar actual ${pct >= 90 ? 'over' : ''}`, style: `width:${pct.toFixed(2)}%` })));
  figs.replaceChildren(
    figure('Endpoint', ep.name, 'endpoint-name'),
    figure('Instance type', m.instance_type || ep.instance_type || '—', 'endpoint-instance-type'),
    h('div', { class: 'figure', 'data-testid': 'endpoint-price', title: m.price_source || '' },
      h('div', { class: 'figure-label' }, 'Price'),
      h('div', { class: 'figure-value', 'data-amount': m.usd_per_hour ?? '' }, price),
      h('div', { class: 'muted small price-source' }, m.price_source || '')),
    figure('Uptime', formatUptime(m.uptime_s), 'endpoint-uptime', String(m.uptime_s ?? '')),
    memory,
    figure('Loaded models', `${ep.loaded_models ?? 0} of ${(m.models || []).length}`, 'endpoint-loaded', String(ep.loaded_models ?? 0)),
    figure('Hit ratio', ratioText(ep.hits, ep.misses), 'endpoint-hit-ratio', `${ep.hits ?? 0}/${(ep.hits ?? 0) + (ep.misses ?? 0)}`),
    h('div', { class: 'figure', 'data-testid': 'endpoint-cost', title: 'Dedicated: one endpoint of this type per model for the same time' },
      h('div', { class: 'figure-label' }, 'Cost so far'),
      h('div', { class: 'figure-value', 'data-amount': m.endpoint_cost_usd ?? '' }, usd(m.endpoint_cost_usd)),
      h('div', { class: 'muted small' },
        h('span', { 'data-testid': 'endpoint-dedicated', 'data-amount': m.dedicated_endpoints_cost_usd ?? '' }, `vs ${usd(m.dedicated_endpoints_cost_usd)} dedicated`),
        saved !== null ? h('span', { 'data-testid': 'endpoint-saved', 'data-amount': saved }, ` · saves ${usd(saved)}`) : null)),
  );
}

function renderTable(wrap, models) {
  const rows = sortModels(models, sort.col, sort.desc);
  const head = h('tr', {}, COLUMNS.map((c) => {
    const on = sort.col === c.id;
    return h('th', {
      class: `sortable ${c.cls || ''}`,
      title: c.title || `Sort by ${c.label}`,
      'data-col': c.id,
      'data-testid': `sort-${c.id}`,
      'aria-sort': on ? (sort.desc ? 'descending' : 'ascending') : 'none',
      onclick: () => {
        if (sort.col === c.id) sort.desc = !sort.desc;
        else {
          sort.col = c.id;
          sort.desc = c.kind !== 'text'; // numbers: biggest first
        }
        renderTable(wrap, models);
      },
    }, c.label, on ? (sort.desc ? ' ▼' : ' ▲') : '');
  }));
  const body = rows.length
    ? rows.map((m) => h('tr', { 'data-testid': 'model-row', 'data-model': m.name }, COLUMNS.map((c) => {
      const raw = m[c.id];
      const attrs = { class: c.cls || null, 'data-col': c.id, 'data-value': raw === null || raw === undefined ? '' : String(raw) };
      if (c.kind === 'dec') {
        attrs['data-amount'] = raw ?? '';
        attrs.title = raw ?? 'not used yet';
      }
      if (c.id === 'bytes') attrs.title = `${m.bytes ?? 0} bytes in memory; ${m.predicted_bytes ?? 0} predicted; ${m.store_bytes ?? 0} in the store`;
      return h('td', attrs, c.cell(m));
    })))
    : [h('tr', {}, h('td', { class: 'rowhead', colspan: String(COLUMNS.length) }, 'The model store is empty.'))];
  wrap.replaceChildren(h('table', { class: 'data list endpoint-table', 'data-testid': 'endpoint-models' }, h('thead', {}, head), h('tbody', {}, body)));
}

// Models used at least once (the API gives them cost fields); returns the series for tests.
function renderChart(canvas, models) {
  const used = models.filter((m) => m.cost_usd !== undefined && m.cost_usd !== null);
  const toNum = (s) => Number(s);
  const series = {
    labels: used.map((m) => m.name),
    datasets: [
      { label: 'Share of this endpoint ($)', data: used.map((m) => toNum(m.cost_usd)) },
      { label: 'One endpoint per model ($)', data: used.map((m) => toNum(m.dedicated_endpoint_usd)) },
    ],
  };
  drawChart(canvas, {
    type: 'bar',
    data: {
      labels: series.labels,
      datasets: [
        { ...series.datasets[0], backgroundColor: PALETTE[0], maxBarThickness: 80 },
        { ...series.datasets[1], backgroundColor: '#9ca3af', maxBarThickness: 80 },
      ],
    },
    options: {
      plugins: { legend: { position: 'top', labels: { boxWidth: 12 } } },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'USD so far' } }, x: { ticks: { autoSkip: false } } },
    },
  });
  return series;
}
