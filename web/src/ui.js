// Small DOM helpers, the page's loading/error state and the hooks tests read.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
);

export const PALETTE = [
  '#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6',
  '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#6366f1',
];
export const OTHERS_COLOR = '#9ca3af';

export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'html') el.innerHTML = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function option(value, label, selected) {
  return h('option', { value, selected: selected ? true : null }, label ?? value);
}

// --- page state: body[data-state] is "loading", "ready" or "error" -------------------
let generation = 0;

// Starts a new render; returns a function telling whether it is still the newest one.
export function begin() {
  const g = ++generation;
  document.body.dataset.state = 'loading';
  document.getElementById('spinner').hidden = false;
  clearError();
  return () => g === generation;
}

export function ready(isCurrent) {
  if (!isCurrent()) return;
  document.getElementById('spinner').hidden = true;
  document.body.dataset.state = 'ready';
}

export function fail(isCurrent, err) {
  if (!isCurrent()) return;
  document.getElementById('spinner').hidden = true;
  showError(err);
  document.body.dataset.state = 'error';
  console.error(err);
}

export function showError(err) {
  const box = document.getElementById('error');
  const code = err && err.code ? `${err.code}: ` : '';
  box.textContent = `${code}${(err && err.message) || err}`;
  box.dataset.status = err && err.status !== undefined ? String(err.status) : '';
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById('error');
  box.hidden = true;
  box.textContent = '';
}

// --- test hooks -------------------------------------------------------------------
export function publish(view, chart, query, extra = {}) {
  window.__sagebox = {
    view,
    chart: chart
      ? {
          labels: chart.labels.slice(),
          datasets: chart.datasets.map((d) => ({ label: d.label, data: d.data.slice() })),
        }
      : null,
    query: query ?? null,
    ...extra,
  };
}

// --- charts ----------------------------------------------------------------------
const charts = new Map();

// Draws (or redraws) a Chart.js chart on `canvas`; animation off so it is fast on big data.
export function drawChart(canvas, config) {
  const old = charts.get(canvas);
  if (old) old.destroy();
  config.options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    normalized: true,
    ...config.options,
  };
  const c = new Chart(canvas, config);
  charts.set(canvas, c);
  return c;
}

export function destroyCharts() {
  for (const c of charts.values()) c.destroy();
  charts.clear();
}

export function figure(label, value, testid, amount) {
  return h(
    'div',
    { class: 'figure', 'data-testid': testid },
    h('div', { class: 'figure-label' }, label),
    h('div', { class: 'figure-value', 'data-amount': amount ?? null }, value),
  );
}
