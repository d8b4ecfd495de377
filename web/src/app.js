// sagebox dashboard: a hash router over the views; talks only to the JSON API (docs/api.md).
import { getJson, initToken } from './api.js';
import { Explorer } from './explorer.js';
import { begin, destroyCharts, fail, h } from './ui.js';
import { showBudgets, showFindings, showForecast, showReports, showSavingsPlans } from './views.js';

let meta = null;
let explorer = null;
const main = () => document.getElementById('main');

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const i = raw.indexOf('?');
  const view = (i < 0 ? raw : raw.slice(0, i)) || 'explorer';
  return { view, params: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  const { view, params } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === view);
  if (view !== 'explorer') {
    explorer = null;
    destroyCharts();
  }
  switch (view) {
    case 'explorer':
      if (!explorer) {
        destroyCharts();
        explorer = new Explorer(meta, navigate);
        main().replaceChildren(explorer.root);
      }
      explorer.show(params);
      break;
    case 'reports':
      showReports(main(), navigate);
      break;
    case 'findings':
      showFindings(main());
      break;
    case 'forecast':
      showForecast(main(), params, navigate, meta);
      break;
    case 'savings-plans':
      showSavingsPlans(main(), params, navigate);
      break;
    case 'budgets':
      showBudgets(main());
      break;
    default:
      main().replaceChildren(h('div', { class: 'empty' }, `No view named “${view}”.`, ' ', h('a', { href: '#/explorer' }, 'Open the Explorer')));
      document.body.dataset.state = 'ready';
  }
}

async function start() {
  initToken();
  const isCurrent = begin();
  try {
    meta = await getJson('/api/meta');
  } catch (err) {
    fail(isCurrent, err);
    return;
  }
  const range = meta.data_range;
  document.getElementById('meta').textContent =
    `${meta.store || ''} · ${range ? `${range.first} to ${range.last}` : 'empty store'} · ${meta.currency || ''} · v${meta.version || '?'}`;
  window.addEventListener('hashchange', route);
  route();
}

start();
