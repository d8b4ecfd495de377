// Explorer: Cost Explorer-style chart and table over GET /api/cost/query.
import { apiUrl, download, getJson, putJson, token } from './api.js';
import { addDays, addMonths, maxDate, periodLabel } from './dates.js';
import { compareDec, displayDec, formatDec, parseDec } from './decimal.js';
import {
  OTHERS_COLOR, PALETTE, begin, drawChart, esc, fail, h, option, publish, ready,
} from './ui.js';

const TOP_N = 10;
const GRANULARITIES = ['DAILY', 'MONTHLY'];
const CHARTS = [['bar', 'Bar'], ['line', 'Line'], ['stacked', 'Stacked bar']];

// The explorer's state is also the saved report's `query` and the URL hash.
export function stateFromParams(params, meta) {
  const range = meta.data_range;
  const to = params.get('to') || (range ? addDays(range.last, 1) : '');
  const from = params.get('from') || (range ? range.first : '');
  return {
    from,
    to,
    granularity: params.get('granularity') || 'MONTHLY',
    metric: params.get('metric') || (meta.metrics && meta.metrics[0]) || 'UnblendedCost',
    group_by: params.getAll('group_by').filter((g) => g && g !== 'none').slice(0, 2),
    filter: params.getAll('filter').filter(Boolean),
    chart: params.get('chart') || 'bar',
  };
}

export function stateToHash(state) {
  const p = new URLSearchParams();
  for (const k of ['from', 'to', 'granularity', 'metric']) if (state[k]) p.set(k, state[k]);
  for (const g of state.group_by || []) p.append('group_by', g);
  for (const f of state.filter || []) p.append('filter', f);
  if (state.chart) p.set('chart', state.chart);
  return '#/cost/explorer?' + p.toString();
}

function apiParams(state) {
  return {
    from: state.from,
    to: state.to,
    granularity: state.granularity,
    metric: state.metric,
    group_by: state.group_by.slice(),
    filter: state.filter.slice(),
  };
}

// Display name of one group key ("team$ml" → "ml"; "" → "(no REGION)").
function keyLabel(key, dim) {
  if (dim && dim.startsWith('TAG:')) {
    const tag = dim.slice(4);
    const v = key.startsWith(tag + '$') ? key.slice(tag.length + 1) : key;
    return v === '' ? `(no ${tag} tag)` : v;
  }
  return key === '' ? `(no ${dim || 'value'})` : key;
}

// Turns a GetCostAndUsage response into rows (every group) ranked by total, descending.
export function tabulate(resp, state) {
  const metric = state.metric;
  const periods = (resp.ResultsByTime || []).map((r) => ({
    start: r.TimePeriod.Start,
    end: r.TimePeriod.End,
  }));
  const grouped = state.group_by.length > 0;
  const rows = new Map();
  let unit = '';
  const columnTotals = [];
  (resp.ResultsByTime || []).forEach((r, i) => {
    if (grouped) {
      let col = 0n;
      for (const g of r.Groups || []) {
        const m = g.Metrics && g.Metrics[metric];
        if (!m) continue;
        unit = unit || m.Unit;
        const id = g.Keys.join('|');
        let row = rows.get(id);
        if (!row) {
          row = {
            id,
            label: g.Keys.map((k, j) => keyLabel(k, state.group_by[j])).join(' · '),
            amounts: new Array(periods.length).fill(null),
          };
          rows.set(id, row);
        }
        row.amounts[i] = m.Amount;
        col += parseDec(m.Amount);
      }
      columnTotals.push(formatDec(col));
    } else {
      const m = r.Total && r.Total[metric];
      unit = unit || (m && m.Unit) || '';
      const amount = m ? m.Amount : null;
      let row = rows.get('');
      if (!row) {
        row = { id: '', label: 'Total', amounts: new Array(periods.length).fill(null) };
        rows.set('', row);
      }
      row.amounts[i] = amount;
      columnTotals.push(amount ?? '0');
    }
  });
  const list = [...rows.values()];
  for (const row of list) {
    let t = 0n;
    for (const a of row.amounts) if (a !== null) t += parseDec(a);
    row.total = formatDec(t);
  }
  list.sort((a, b) => compareDec(b.total, a.total) || (a.label < b.label ? -1 : 1));
  let grand = 0n;
  for (const c of columnTotals) grand += parseDec(c);
  return { periods, rows: list, columnTotals, grandTotal: formatDec(grand), unit, grouped };
}

// Chart series: the top 10 groups, the rest summed (exactly) into "Others".
export function chartSeries(table, state) {
  const labels = table.periods.map((p) => periodLabel(p.start, p.end, state.granularity));
  const top = table.rows.slice(0, TOP_N);
  const rest = table.rows.slice(TOP_N);
  const datasets = top.map((r, i) => ({
    label: r.label,
    data: r.amounts.map((a) => (a === null ? 0 : Number(a))),
    color: PALETTE[i % PALETTE.length],
  }));
  if (rest.length) {
    const data = table.periods.map((_, i) => {
      let s = 0n;
      for (const r of rest) if (r.amounts[i] !== null) s += parseDec(r.amounts[i]);
      return Number(formatDec(s));
    });
    datasets.push({ label: `Others (${rest.length})`, data, color: OTHERS_COLOR });
  }
  return { labels, datasets };
}

// The table as one HTML string. Rows go in chunks of ROWS_PER_CHUNK, each its own <table>
// inside a `content-visibility: auto` box, so the browser lays out only the chunks on screen:
// a year of days × hundreds of groups stays fast, and every cell is still in the page.
// Columns have fixed widths so the chunks, the header and the Total row line up.
// Amounts were validated by parseDec in tabulate, so they need no escaping.
const ROWS_PER_CHUNK = 40;
const ROW_PX = 23;
// Beyond this many cells (a year of days × ~400 groups) the page would spend seconds on
// markup nobody scrolls through: the table shows the top groups by spend up to the limit,
// a button shows the rest, and the CSV download always has every group.
export const MAX_CELLS = 150000;

// How many rows renderTable draws: all of them, or as many as fit in MAX_CELLS.
export function rowsShown(table, showAll) {
  const perRow = table.periods.length + 1;
  if (showAll || table.rows.length * perRow <= MAX_CELLS) return table.rows.length;
  return Math.max(50, Math.floor(MAX_CELLS / perRow));
}

function renderTable(table, state, limit = table.rows.length) {
  const cols = table.periods.map((p) => esc(p.start));
  const shown = (a) => (a === null ? '—' : displayDec(a));
  let longest = 5;
  for (const row of table.rows) {
    longest = Math.max(longest, shown(row.total).length);
  }
  for (const c of table.columnTotals) longest = Math.max(longest, shown(c).length);
  for (const p of table.periods) longest = Math.max(longest, periodLabel(p.start, p.end, state.granularity).length);
  const colPx = Math.max(84, Math.ceil(longest * 7.6 + 22));
  const headPx = 240;
  const width = headPx + colPx * (table.periods.length + 1);
  const colgroup = `<colgroup><col style="width:${headPx}px">${`<col style="width:${colPx}px">`.repeat(table.periods.length + 1)}</colgroup>`;
  const open = (cls) => `<table class="data ${cls}" style="width:${width}px">${colgroup}`;
  const groupName = state.group_by.length ? state.group_by.join(' · ') : 'Metric';
  const head = table.periods
    .map((p) => `<th scope="col" title="${esc(p.start)} to ${esc(p.end)} (exclusive)">${esc(periodLabel(p.start, p.end, state.granularity))}</th>`)
    .join('');
  const line = (id, label, amounts, total) => {
    const r = esc(id);
    const out = [`<tr data-testid="row" data-row="${r}"><th scope="row" class="rowhead" title="${esc(label)}">${esc(shortLabel(label, 31))}</th>`];
    for (let i = 0; i < amounts.length; i++) {
      const a = amounts[i];
      out.push(`<td data-testid="cell" data-row="${r}" data-col="${cols[i]}" data-amount="${a ?? ''}">${shown(a)}</td>`);
    }
    out.push(`<td class="total" data-testid="cell" data-row="${r}" data-col="__total__" data-amount="${total}">${shown(total)}</td></tr>`);
    return out.join('');
  };
  const parts = [
    `<div class="grid" data-testid="table" style="width:${width}px">`,
    `${open('head')}<thead><tr><th scope="col" class="rowhead">${esc(groupName)}</th>${head}<th scope="col" class="total">Total</th></tr></thead></table>`,
  ];
  for (let i = 0; i < limit; i += ROWS_PER_CHUNK) {
    const rows = table.rows.slice(i, Math.min(i + ROWS_PER_CHUNK, limit));
    parts.push(`<div class="chunk" style="contain-intrinsic-size:auto ${rows.length * ROW_PX}px">${open('body')}<tbody>`);
    for (const row of rows) parts.push(line(row.id, row.label, row.amounts, row.total));
    parts.push('</tbody></table></div>');
  }
  if (table.grouped) {
    parts.push(`${open('foot')}<tfoot>${line('__total__', 'Total', table.columnTotals, table.grandTotal)}</tfoot></table>`);
  }
  parts.push('</div>');
  return parts.join('');
}

// Legend text: long keys (ARNs) keep their distinctive end.
function shortLabel(label, max = 42) {
  return label.length > max ? '…' + label.slice(1 - max) : label;
}

export class Explorer {
  constructor(meta, navigate) {
    this.meta = meta;
    this.navigate = navigate;
    this.state = null;
    this.valueCache = new Map();
    this.build();
  }

  build() {
    const meta = this.meta;
    const dims = meta.dimensions || [];
    const groupOptions = [['none', 'None'], ...dims.map((d) => [d, d]), ...(meta.tag_keys || []).map((k) => [`TAG:${k}`, `Tag: ${k}`])];
    const filterDims = [...dims, ...(meta.tag_keys || []).map((k) => `TAG:${k}`)];
    this.el = {};
    const e = this.el;
    e.from = h('input', { type: 'date', 'data-testid': 'from', 'aria-label': 'From', onchange: () => this.update({ from: e.from.value }) });
    e.to = h('input', { type: 'date', 'data-testid': 'to', 'aria-label': 'To (exclusive)', onchange: () => this.update({ to: e.to.value }) });
    const preset = (id, text, fn) => h('button', { type: 'button', class: 'chip-btn', 'data-testid': `preset-${id}`, onclick: () => this.update(fn()) }, text);
    const range = meta.data_range;
    const end = range ? addDays(range.last, 1) : '';
    const clip = (d) => (range ? maxDate(d, range.first) : d);
    e.granularity = h('select', { 'data-testid': 'granularity', 'aria-label': 'Granularity', onchange: () => this.update({ granularity: e.granularity.value }) }, GRANULARITIES.map((g) => option(g, g[0] + g.slice(1).toLowerCase())));
    e.metric = h('select', { 'data-testid': 'metric', 'aria-label': 'Metric', onchange: () => this.update({ metric: e.metric.value }) }, (meta.metrics || []).map((m) => option(m)));
    e.groupBy = h('select', { 'data-testid': 'group-by', 'aria-label': 'Group by', onchange: () => this.update({ group_by: e.groupBy.value === 'none' ? [] : [e.groupBy.value] }) }, groupOptions.map(([v, l]) => option(v, l)));
    e.chartType = h('select', { 'data-testid': 'chart-type', 'aria-label': 'Chart type', onchange: () => this.update({ chart: e.chartType.value }) }, CHARTS.map(([v, l]) => option(v, l)));
    e.filterDim = h('select', { 'data-testid': 'filter-dimension', 'aria-label': 'Filter dimension', onchange: () => this.loadValues() }, filterDims.map((d) => option(d)));
    e.filterOp = h('select', { 'data-testid': 'filter-op', 'aria-label': 'Filter operator' }, option('=', 'is'), option('~', 'contains'));
    e.values = h('datalist', { id: 'filter-values' });
    e.filterValue = h('input', { type: 'text', list: 'filter-values', 'data-testid': 'filter-value', placeholder: 'value', 'aria-label': 'Filter value', onkeydown: (ev) => ev.key === 'Enter' && this.addFilter() });
    e.chips = h('span', { class: 'chips', 'data-testid': 'filters' });
    e.csv = h('a', { class: 'btn', 'data-testid': 'csv-link', href: '#', onclick: (ev) => this.downloadCsv(ev) }, 'Download CSV');
    e.reportName = h('input', { type: 'text', class: 'needs-write', placeholder: 'report name', 'data-testid': 'report-name', 'aria-label': 'Report name', maxlength: '100' });
    e.saveMsg = h('span', { class: 'muted', 'data-testid': 'report-save-status' });
    e.canvas = h('canvas', { 'data-testid': 'chart' });
    e.summary = h('div', { class: 'summary', 'data-testid': 'summary' });
    e.table = h('div', { class: 'table-wrap' });
    e.empty = h('div', { class: 'empty', hidden: true, 'data-testid': 'explorer-empty' });
    this.root = h(
      'section',
      { class: 'view explorer', 'data-testid': 'view-explorer' },
      h(
        'div',
        { class: 'controls' },
        h('label', {}, 'From ', e.from),
        h('label', {}, 'To ', e.to, h('span', { class: 'muted small' }, ' (excl.)')),
        h('span', { class: 'presets' },
          preset('30d', 'Last 30 days', () => ({ from: clip(addDays(end, -30)), to: end })),
          preset('3m', '3 months', () => ({ from: clip(addMonths(end, -3)), to: end })),
          preset('12m', '12 months', () => ({ from: clip(addMonths(end, -12)), to: end })),
          preset('all', 'All data', () => ({ from: range ? range.first : '', to: end }))),
        h('label', {}, 'Granularity ', e.granularity),
        h('label', {}, 'Metric ', e.metric),
        h('label', {}, 'Group by ', e.groupBy),
        h('label', {}, 'Chart ', e.chartType),
      ),
      h(
        'div',
        { class: 'controls' },
        h('label', {}, 'Filter ', e.filterDim),
        e.filterOp,
        e.filterValue,
        e.values,
        h('button', { type: 'button', 'data-testid': 'filter-add', onclick: () => this.addFilter() }, 'Add filter'),
        e.chips,
        h('span', { class: 'spacer' }),
        e.csv,
        e.reportName,
        h('button', { type: 'button', class: 'needs-write', 'data-testid': 'report-save', onclick: () => this.save() }, 'Save view'),
        e.saveMsg,
      ),
      e.empty,
      h('div', { class: 'chart-box' }, e.canvas),
      e.summary,
      e.table,
    );
  }

  update(patch) {
    this.navigate(stateToHash({ ...this.state, ...patch }));
  }

  syncControls() {
    const s = this.state;
    const e = this.el;
    e.from.value = s.from;
    e.to.value = s.to;
    e.granularity.value = s.granularity;
    if (![...e.metric.options].some((o) => o.value === s.metric)) e.metric.append(option(s.metric));
    e.metric.value = s.metric;
    const g = s.group_by[0] || 'none';
    if (![...e.groupBy.options].some((o) => o.value === g)) e.groupBy.append(option(g));
    e.groupBy.value = g;
    e.chartType.value = s.chart;
    e.chips.replaceChildren(
      ...s.filter.map((f, i) =>
        h('span', { class: 'chip', 'data-testid': 'filter-chip', 'data-filter': f },
          f.replace(/=/, ' = ').replace(/~/, ' ~ '),
          h('button', { type: 'button', class: 'chip-x', title: 'Remove filter', 'aria-label': `Remove filter ${f}`, 'data-testid': 'filter-remove', onclick: () => this.update({ filter: s.filter.filter((_, j) => j !== i) }) }, '×'))),
    );
    e.csv.href = apiUrl('/api/cost/query.csv', apiParams(s));
  }

  async loadValues() {
    const dim = this.el.filterDim.value;
    const key = `${dim}|${this.state.from}|${this.state.to}`;
    try {
      let values = this.valueCache.get(key);
      if (!values) {
        const r = await getJson('/api/cost/dimension-values', { dimension: dim, from: this.state.from, to: this.state.to });
        values = r.values || [];
        this.valueCache.set(key, values);
      }
      if (this.el.filterDim.value !== dim) return;
      this.el.values.replaceChildren(...values.map((v) => h('option', { value: v.value }, `${displayDec(v.amount)}`)));
    } catch (err) {
      this.el.saveMsg.textContent = `Could not list ${dim} values: ${err.message}`;
    }
  }

  addFilter() {
    const dim = this.el.filterDim.value;
    const op = this.el.filterOp.value;
    const value = this.el.filterValue.value.trim();
    if (!value) return;
    const filters = this.state.filter.slice();
    const i = filters.findIndex((f) => f.startsWith(dim + '='));
    if (op === '=' && i >= 0) {
      const values = filters[i].slice(dim.length + 1).split(',');
      if (!values.includes(value)) filters[i] += ',' + value;
    } else {
      filters.push(`${dim}${op}${value}`);
    }
    this.el.filterValue.value = '';
    this.update({ filter: filters });
  }

  async downloadCsv(ev) {
    if (!token()) return; // the plain link works without a token
    ev.preventDefault();
    try {
      await download('/api/cost/query.csv', apiParams(this.state), 'sagebox-query.csv');
    } catch (err) {
      this.el.saveMsg.textContent = `Download failed: ${err.message}`;
    }
  }

  async save() {
    const name = this.el.reportName.value.trim();
    if (!name) {
      this.el.saveMsg.textContent = 'Give the view a name first.';
      return;
    }
    this.el.saveMsg.textContent = 'Saving…';
    try {
      await putJson(`/api/cost/reports/${encodeURIComponent(name)}`, { query: this.state });
      this.el.saveMsg.textContent = `Saved “${name}”.`;
    } catch (err) {
      this.el.saveMsg.textContent = `Not saved: ${err.message}`;
    }
  }

  // Shows the view for `params` (URL hash parameters): fetches and redraws.
  async show(params) {
    const isCurrent = begin();
    // "Show all" holds for the view it was pressed on, not for the next question.
    const key = JSON.stringify(params);
    if (key !== this.shownKey) this.showAll = false;
    this.shownKey = key;
    this.state = stateFromParams(params, this.meta);
    const s = this.state;
    this.syncControls();
    if (!this.meta.data_range) {
      this.el.empty.hidden = false;
      this.el.empty.textContent = 'The store is empty: add a billing export with `sagebox cost ingest`.';
    }
    const query = apiParams(s);
    try {
      if (!this.el.values.children.length) this.loadValues();
      const resp = await getJson('/api/cost/query', query);
      if (!isCurrent()) return;
      const t0 = performance.now();
      const table = tabulate(resp, s);
      const series = chartSeries(table, s);
      this.drawChart(series, s);
      const limit = rowsShown(table, this.showAll);
      this.el.table.innerHTML = renderTable(table, s, limit);
      const more = limit < table.rows.length
        ? h('span', { class: 'muted', 'data-testid': 'rows-capped' },
          ` · the table shows the top ${limit} of ${table.rows.length} groups (the Total row counts all; Download CSV has every group) `,
          h('button', {
            type: 'button', class: 'chip-btn', 'data-testid': 'show-all-rows',
            onclick: () => { this.showAll = true; this.show(params); },
          }, 'Show all'))
        : null;
      this.el.summary.replaceChildren(h('span', {},
        h('span', { 'data-testid': 'grand-total', 'data-amount': table.grandTotal }, `Total ${displayDec(table.grandTotal)} ${table.unit}`),
        h('span', { class: 'muted' }, ` · ${table.rows.length} ${table.grouped ? 'group(s)' : 'row'} · ${table.periods.length} period(s) · ${s.from} to ${s.to} (exclusive)`),
        table.rows.length > TOP_N ? h('span', { class: 'muted' }, ` · chart shows the top ${TOP_N}, the rest as Others`) : null,
        more,
      ));
      publish('explorer', series, query, { renderMs: performance.now() - t0 });
      ready(isCurrent);
    } catch (err) {
      fail(isCurrent, err);
    }
  }

  drawChart(series, s) {
    const type = s.chart === 'line' ? 'line' : 'bar';
    const stacked = s.chart === 'stacked';
    drawChart(this.el.canvas, {
      type,
      data: {
        labels: series.labels,
        datasets: series.datasets.map((d) => ({
          label: shortLabel(d.label),
          data: d.data,
          backgroundColor: d.color,
          borderColor: d.color,
          borderWidth: type === 'line' ? 2 : 0,
          pointRadius: series.labels.length > 60 ? 0 : 2,
        })),
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked, beginAtZero: true },
        },
        plugins: {
          legend: { position: 'right', labels: { boxWidth: 12, font: { size: 11 } } },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y.toFixed(2)}` } },
        },
      },
    });
  }
}
