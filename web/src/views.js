// Saved reports, findings, forecast, Savings Plans and budgets views.
import { del, getJson } from './api.js';
import { periodLabel } from './dates.js';
import { displayDec, formatDec, parseDec } from './decimal.js';
import { stateToHash } from './explorer.js';
import { PALETTE, begin, drawChart, fail, figure, h, option, publish, ready } from './ui.js';

const num = (s) => (s === null || s === undefined || s === '' ? null : Number(s));
const money = (s, unit = 'USD') => (s === null || s === undefined ? '—' : `${displayDec(s)} ${unit}`);

function selectControl(testid, label, values, current, onchange) {
  const sel = h('select', { 'data-testid': testid, 'aria-label': label, onchange: () => onchange(sel.value) },
    values.map(([v, l]) => option(v, l, v === current)));
  return h('label', {}, `${label} `, sel);
}

// --- saved reports ------------------------------------------------------------------
export async function showReports(main, navigate) {
  const isCurrent = begin();
  const list = h('div', { 'data-testid': 'reports' });
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-reports' },
    h('h2', {}, 'Saved reports'),
    h('p', { class: 'muted' }, 'Save an Explorer view with “Save view”; reports live in the store (reports.json).'),
    list));
  try {
    const r = await getJson('/api/cost/reports');
    if (!isCurrent()) return;
    const reports = r.reports || [];
    if (!reports.length) {
      list.replaceChildren(h('div', { class: 'empty', 'data-testid': 'reports-empty' }, 'No saved reports yet.'));
    } else {
      const rows = reports.map((rep) => {
        const q = rep.query || {};
        const desc = [
          `${q.from || '…'} to ${q.to || '…'}`,
          q.granularity,
          q.metric,
          q.group_by && q.group_by.length ? `by ${q.group_by.join(', ')}` : null,
          q.filter && q.filter.length ? `where ${q.filter.join(' and ')}` : null,
        ].filter(Boolean).join(' · ');
        return h('tr', { 'data-testid': 'report', 'data-name': rep.name },
          h('td', {}, h('a', { href: stateToHash({ group_by: [], filter: [], ...q }), 'data-testid': 'report-open' }, rep.name)),
          h('td', { class: 'muted' }, desc),
          h('td', {}, h('button', {
            type: 'button', class: 'needs-write', 'data-testid': 'report-delete',
            onclick: async () => {
              try {
                await del(`/api/cost/reports/${encodeURIComponent(rep.name)}`);
                showReports(main, navigate);
              } catch (err) {
                fail(() => true, err);
              }
            },
          }, 'Delete')));
      });
      list.replaceChildren(h('table', { class: 'data list' }, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'View'), h('th', {}, ''))), h('tbody', {}, rows)));
    }
    publish('reports', null, null, { reports: reports.map((x) => x.name) });
    ready(isCurrent);
  } catch (err) {
    fail(isCurrent, err);
  }
}

// --- findings -------------------------------------------------------------------------
function valueNode(v) {
  if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
    const cols = [...new Set(v.flatMap((x) => Object.keys(x)))];
    return h('div', { class: 'mini-wrap' }, h('table', { class: 'mini' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
      h('tbody', {}, v.map((x) => h('tr', {}, cols.map((c) => h('td', {}, typeof x[c] === 'object' ? JSON.stringify(x[c]) : String(x[c] ?? '')))))),
    ));
  }
  if (v && typeof v === 'object') return h('pre', {}, JSON.stringify(v, null, 2));
  return h('span', {}, String(v));
}

function dl(obj, skip = []) {
  return h('dl', { class: 'kv' }, Object.entries(obj || {}).filter(([k]) => !skip.includes(k)).flatMap(([k, v]) => [h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, valueNode(v))]));
}

function actionNode(action) {
  if (!action) return h('p', { class: 'muted' }, 'No action.');
  const cmds = Array.isArray(action.commands) ? action.commands : [];
  return h('div', {},
    h('p', {}, h('strong', {}, 'Action: '), action.type || ''),
    cmds.length ? h('pre', { class: 'cmd', 'data-testid': 'finding-commands' }, cmds.map((c) => (typeof c === 'string' ? c : JSON.stringify(c, null, 2))).join('\n')) : null,
    dl(action, ['type', 'commands']));
}

export async function showFindings(main) {
  const isCurrent = begin();
  const head = h('div', { class: 'figures' });
  const canvas = h('canvas', { 'data-testid': 'findings-chart' });
  const list = h('div', { class: 'findings', 'data-testid': 'findings' });
  const notes = h('ul', { class: 'notes muted' });
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-findings' }, head, h('div', { class: 'chart-box small' }, canvas), list, notes));
  try {
    const r = await getJson('/api/cost/findings');
    if (!isCurrent()) return;
    const findings = r.findings || [];
    const cur = r.currency || 'USD';
    let total = 0n;
    for (const f of findings) total += parseDec(f.monthly_savings_usd || '0');
    const totalText = formatDec(total);
    head.replaceChildren(
      figure('Findings', String(findings.length), 'findings-count'),
      figure('Savings per month, all findings', money(totalText, cur), 'findings-total', totalText),
      figure('Period', r.period ? `${r.period.start} to ${r.period.end}` : '—', 'findings-period'),
      h('p', { class: 'muted small' }, 'Findings about one resource can overlap, so the sum can overstate what is saved. Monthly = 730 hours.'),
    );
    // savings by kind, exact sums
    const byKind = new Map();
    for (const f of findings) byKind.set(f.kind, (byKind.get(f.kind) || 0n) + parseDec(f.monthly_savings_usd || '0'));
    const kinds = [...byKind.entries()].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
    const series = { labels: kinds.map((k) => k[0]), datasets: [{ label: `Monthly savings (${cur})`, data: kinds.map((k) => Number(formatDec(k[1]))) }] };
    drawChart(canvas, {
      type: 'bar',
      data: { labels: series.labels, datasets: [{ ...series.datasets[0], backgroundColor: PALETTE[2] }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true }, y: { ticks: { autoSkip: false, font: { size: 11 } } } } },
    });
    if (!findings.length) {
      list.replaceChildren(h('div', { class: 'empty', 'data-testid': 'findings-empty' }, 'No findings: nothing to save was found in this store with the inputs given to serve.'));
    } else {
      list.replaceChildren(
        h('div', { class: 'finding-head' }, h('span', {}, '#'), h('span', {}, 'Kind'), h('span', {}, 'Resource'), h('span', {}, 'Account · region'), h('span', { class: 'num' }, 'Savings/month'), h('span', {}, 'Confidence')),
        ...findings.map((f, i) => {
          const res = f.resource_id || '';
          const short = res.includes('/') ? res.slice(res.lastIndexOf('/') + 1) : res;
          return h('details', { class: 'finding', 'data-testid': 'finding', 'data-id': f.id || '' },
            h('summary', {},
              h('span', { class: 'muted' }, String(i + 1)),
              h('span', { class: 'kind', 'data-testid': 'finding-kind' }, f.kind),
              h('span', { class: 'res', title: res }, short || '—'),
              h('span', { class: 'muted' }, [f.account_id, f.region].filter(Boolean).join(' · ')),
              h('span', { class: 'num', 'data-testid': 'finding-savings', 'data-amount': f.monthly_savings_usd }, money(f.monthly_savings_usd, cur)),
              h('span', { class: `conf conf-${f.confidence}` }, f.confidence || '')),
            h('div', { class: 'finding-body' },
              h('p', { 'data-testid': 'finding-recommendation' }, f.recommendation || ''),
              h('p', { class: 'muted small' }, res),
              actionNode(f.action),
              h('h4', {}, 'Evidence'),
              dl(f.evidence)));
        }),
      );
    }
    notes.replaceChildren(...(r.notes || []).map((n) => h('li', {}, n)));
    publish('findings', series, null, { findings: { count: findings.length, total: totalText } });
    ready(isCurrent);
  } catch (err) {
    fail(isCurrent, err);
  }
}

// --- forecast -------------------------------------------------------------------------
export async function showForecast(main, params, navigate, meta) {
  const isCurrent = begin();
  const q = {
    metric: params.get('metric') || 'UnblendedCost',
    granularity: params.get('granularity') || 'DAILY',
    horizon: params.get('horizon') || '30',
    interval: params.get('interval') || '80',
  };
  const go = (patch) => navigate('#/cost/forecast?' + new URLSearchParams({ ...q, ...patch }).toString());
  const canvas = h('canvas', { 'data-testid': 'forecast-chart' });
  const figs = h('div', { class: 'figures' });
  const models = h('div', {});
  const horizon = h('input', { type: 'number', min: '1', max: '366', value: q.horizon, 'data-testid': 'forecast-horizon', 'aria-label': 'Horizon (days)', onchange: () => go({ horizon: horizon.value }) });
  const interval = h('input', { type: 'number', min: '51', max: '99', value: q.interval, 'data-testid': 'forecast-interval', 'aria-label': 'Interval (%)', onchange: () => go({ interval: interval.value }) });
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-forecast' },
    h('div', { class: 'controls' },
      selectControl('forecast-metric', 'Metric', (meta.metrics || ['UnblendedCost']).map((m) => [m, m]), q.metric, (v) => go({ metric: v })),
      selectControl('forecast-granularity', 'Granularity', [['DAILY', 'Daily'], ['MONTHLY', 'Monthly']], q.granularity, (v) => go({ granularity: v })),
      h('label', {}, 'Horizon (days) ', horizon),
      h('label', {}, 'Interval (%) ', interval)),
    figs, h('div', { class: 'chart-box' }, canvas), models));
  try {
    const f = await getJson('/api/cost/forecast', q);
    if (!isCurrent()) return;
    const sb = f.Sagebox || {};
    const results = f.ForecastResultsByTime || [];
    // Actual history over the training window, without the line item types the model leaves out.
    let history = [];
    const tp = sb.TrainingPeriod;
    if (tp && tp.Start && tp.End) {
      const excluded = new Set(sb.ExcludedLineItemTypes || []);
      const types = await getJson('/api/cost/dimension-values', { dimension: 'LINE_ITEM_TYPE', from: tp.Start, to: tp.End });
      const kept = (types.values || []).map((v) => v.value).filter((v) => !excluded.has(v) && !v.includes(','));
      const hq = { from: tp.Start, to: tp.End, granularity: q.granularity, metric: q.metric, filter: kept.length ? [`LINE_ITEM_TYPE=${kept.join(',')}`] : [] };
      const hr = await getJson('/api/cost/query', hq);
      if (!isCurrent()) return;
      history = (hr.ResultsByTime || []).map((r) => ({ start: r.TimePeriod.Start, end: r.TimePeriod.End, amount: r.Total && r.Total[q.metric] ? r.Total[q.metric].Amount : '0' }));
    }
    const labels = [...history.map((x) => periodLabel(x.start, x.end, q.granularity)), ...results.map((r) => periodLabel(r.TimePeriod.Start, r.TimePeriod.End, q.granularity))];
    const pad = (arr, before, after) => [...new Array(before).fill(null), ...arr, ...new Array(after).fill(null)];
    const nh = history.length;
    const nf = results.length;
    const series = {
      labels,
      datasets: [
        { label: 'Lower bound', data: pad(results.map((r) => num(r.PredictionIntervalLowerBound)), nh, 0) },
        { label: `Upper bound (${sb.PredictionIntervalLevel ?? q.interval}% interval)`, data: pad(results.map((r) => num(r.PredictionIntervalUpperBound)), nh, 0) },
        { label: 'Actual', data: pad(history.map((x) => num(x.amount)), 0, nf) },
        { label: 'Forecast (mean)', data: pad(results.map((r) => num(r.MeanValue)), nh, 0) },
      ],
    };
    drawChart(canvas, {
      type: 'line',
      data: {
        labels,
        datasets: [
          { ...series.datasets[0], borderColor: 'rgba(37,99,235,0.25)', backgroundColor: 'rgba(37,99,235,0.15)', pointRadius: 0, borderWidth: 1, fill: false },
          { ...series.datasets[1], borderColor: 'rgba(37,99,235,0.25)', backgroundColor: 'rgba(37,99,235,0.15)', pointRadius: 0, borderWidth: 1, fill: '-1' },
          { ...series.datasets[2], borderColor: '#111827', backgroundColor: '#111827', pointRadius: 0, borderWidth: 1.5 },
          { ...series.datasets[3], borderColor: '#2563eb', backgroundColor: '#2563eb', pointRadius: 0, borderWidth: 2 },
        ],
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: { x: { ticks: { autoSkip: true, maxRotation: 0 } }, y: { beginAtZero: true } },
        plugins: { legend: { position: 'top', labels: { boxWidth: 12 } } },
      },
    });
    const unit = (f.Total && f.Total.Unit) || '';
    figs.replaceChildren(
      figure('Model', sb.Model || '—', 'forecast-model'),
      figure(`Forecast total (${results.length ? results[0].TimePeriod.Start : ''} to ${results.length ? results[nf - 1].TimePeriod.End : ''})`, money(f.Total && f.Total.Amount, unit), 'forecast-total', f.Total && f.Total.Amount),
      figure(`${sb.PredictionIntervalLevel ?? ''}% interval`, `${displayDec(sb.TotalPredictionIntervalLowerBound)} – ${displayDec(sb.TotalPredictionIntervalUpperBound)}`, 'forecast-interval-total'),
      figure('Backtest MASE', sb.MASE !== undefined ? String(sb.MASE) : '—', 'forecast-mase'),
      figure('Backtest MAPE', sb.MAPE !== undefined ? `${sb.MAPE}%` : '—', 'forecast-mape'),
      figure('Interval coverage', sb.IntervalCoverage !== undefined ? `${(sb.IntervalCoverage * 100).toFixed(1)}%` : '—', 'forecast-coverage'),
      figure('Trained on', tp ? `${tp.Start} to ${tp.End}` : '—', 'forecast-training'),
    );
    const ms = sb.Models || [];
    models.replaceChildren(
      h('p', { class: 'muted small' }, `Backtest: ${sb.BacktestOrigins ?? '?'} origin(s), ${sb.BacktestHorizonDays ?? '?'}-day windows; the model with the lowest error wins. Actual history leaves out ${(sb.ExcludedLineItemTypes || []).join(', ') || 'nothing'}, as the model does.`),
      ms.length ? h('table', { class: 'data list', 'data-testid': 'forecast-models' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Model'), h('th', {}, 'MASE'), h('th', {}, 'MAPE %'), h('th', {}, 'Interval coverage'))),
        h('tbody', {}, ms.map((m) => h('tr', { class: m.Model === sb.Model ? 'chosen' : '' }, h('td', {}, m.Model + (m.Model === sb.Model ? ' (chosen)' : '')), h('td', {}, String(m.MASE)), h('td', {}, String(m.MAPE)), h('td', {}, `${(m.IntervalCoverage * 100).toFixed(1)}%`))))) : null,
    );
    publish('forecast', series, q, { forecast: { model: sb.Model, total: f.Total && f.Total.Amount } });
    ready(isCurrent);
  } catch (err) {
    fail(isCurrent, err);
  }
}

// --- Savings Plans --------------------------------------------------------------------
export async function showSavingsPlans(main, params, navigate) {
  const isCurrent = begin();
  const q = {
    term: params.get('term') || 'ONE_YEAR',
    payment: params.get('payment') || 'NO_UPFRONT',
    lookback: params.get('lookback') || 'THIRTY_DAYS',
  };
  const go = (patch) => navigate('#/cost/savings-plans?' + new URLSearchParams({ ...q, ...patch }).toString());
  const canvas = h('canvas', { 'data-testid': 'sp-chart' });
  const figs = h('div', { class: 'figures' });
  const more = h('div', {});
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-savings-plans' },
    h('div', { class: 'controls' },
      selectControl('sp-term', 'Term', [['ONE_YEAR', '1 year'], ['THREE_YEARS', '3 years']], q.term, (v) => go({ term: v })),
      selectControl('sp-payment', 'Payment', [['NO_UPFRONT', 'No upfront'], ['PARTIAL_UPFRONT', 'Partial upfront'], ['ALL_UPFRONT', 'All upfront']], q.payment, (v) => go({ payment: v })),
      selectControl('sp-lookback', 'Lookback', [['SEVEN_DAYS', '7 days'], ['THIRTY_DAYS', '30 days'], ['SIXTY_DAYS', '60 days']], q.lookback, (v) => go({ lookback: v }))),
    figs, h('div', { class: 'chart-box' }, canvas), more));
  try {
    const r = await getJson('/api/cost/savings-plans/recommendation', q);
    if (!isCurrent()) return;
    const rec = r.SavingsPlansPurchaseRecommendation || {};
    const sum = rec.SavingsPlansPurchaseRecommendationSummary || {};
    const det = (rec.SavingsPlansPurchaseRecommendationDetails || [])[0] || null;
    const sb = r.Sagebox || {};
    const curve = sb.SavingsVsCommitmentCurve || [];
    const cur = sum.CurrencyCode || 'USD';
    const lookbackHours = sb.LookbackPeriod && sb.LookbackPeriod.Hours;
    const recX = num(sum.HourlyCommitmentToPurchase);
    const recY = num(sum.EstimatedSavingsAmount);
    const series = {
      labels: curve.map((p) => p.HourlyCommitment),
      datasets: [
        { label: 'Savings over the lookback', data: curve.map((p) => num(p.EstimatedSavingsAmount)) },
        { label: 'Recommended', data: det ? [recY] : [], x: det ? [recX] : [] },
      ],
    };
    drawChart(canvas, {
      type: 'scatter',
      data: {
        datasets: [
          { label: series.datasets[0].label, data: curve.map((p) => ({ x: num(p.HourlyCommitment), y: num(p.EstimatedSavingsAmount) })), showLine: true, borderColor: PALETTE[0], backgroundColor: PALETTE[0], pointRadius: 2, borderWidth: 2 },
          { label: det ? `Recommended: ${sum.HourlyCommitmentToPurchase} ${cur}/hour` : 'No recommendation', data: det ? [{ x: recX, y: recY }] : [], borderColor: '#dc2626', backgroundColor: '#dc2626', pointRadius: 7, pointStyle: 'rectRot' },
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: `Hourly commitment (${cur}/hour)` } },
          y: { title: { display: true, text: `Net savings over the lookback (${cur})` } },
        },
        plugins: { legend: { position: 'top', labels: { boxWidth: 12 } } },
      },
    });
    figs.replaceChildren(
      figure('Hourly commitment to buy', det ? `${sum.HourlyCommitmentToPurchase} ${cur}/h` : 'none', 'sp-commitment', sum.HourlyCommitmentToPurchase),
      figure('Savings per month', money(sum.EstimatedMonthlySavingsAmount, cur), 'sp-monthly-savings', sum.EstimatedMonthlySavingsAmount),
      figure('Savings', sum.EstimatedSavingsPercentage !== undefined ? `${sum.EstimatedSavingsPercentage}%` : '—', 'sp-savings-pct'),
      figure('Utilization', det ? `${det.EstimatedAverageUtilization}%` : '—', 'sp-utilization'),
      figure('Coverage', sb.EstimatedCoverage !== undefined ? `${sb.EstimatedCoverage}%` : '—', 'sp-coverage'),
      figure('ROI', sum.EstimatedROI !== undefined ? `${sum.EstimatedROI}%` : '—', 'sp-roi'),
      figure('On-demand spend (lookback)', money(sum.CurrentOnDemandSpend, cur), 'sp-ondemand', sum.CurrentOnDemandSpend),
      figure('Break-even utilization', sb.BreakEven ? `${sb.BreakEven.BreakEvenUtilization}%` : '—', 'sp-breakeven'),
    );
    const sc = sb.Scenarios || [];
    more.replaceChildren(
      h('p', { class: 'muted small' }, `${rec.SavingsPlansType || ''} · ${rec.TermInYears || q.term} · ${rec.PaymentOption || q.payment} · lookback ${rec.LookbackPeriodInDays || q.lookback}${lookbackHours ? ` (${lookbackHours} h)` : ''}. ${sb.RateSource || ''}`),
      sc.length ? h('table', { class: 'data list', 'data-testid': 'sp-scenarios' },
        h('thead', {}, h('tr', {}, h('th', {}, 'If usage changes'), h('th', {}, 'Savings at the recommended commitment'), h('th', {}, 'Utilization'), h('th', {}, 'Best commitment then'), h('th', {}, 'Its savings'))),
        h('tbody', {}, sc.map((s) => h('tr', {}, h('td', {}, `${s.UsageChangePercentage}%`), h('td', {}, money(s.EstimatedSavingsAmount, cur)), h('td', {}, `${s.EstimatedAverageUtilization}%`), h('td', {}, `${s.OptimalHourlyCommitment} ${cur}/h`), h('td', {}, money(s.OptimalEstimatedSavingsAmount, cur)))))) : null,
      ...(sb.Notes || []).map((n) => h('p', { class: 'muted small' }, `Note: ${n}`)),
    );
    publish('savings-plans', series, q, { sp: { commitment: sum.HourlyCommitmentToPurchase, savings: sum.EstimatedSavingsAmount, monthly: sum.EstimatedMonthlySavingsAmount } });
    ready(isCurrent);
  } catch (err) {
    fail(isCurrent, err);
  }
}

// --- budgets --------------------------------------------------------------------------
export async function showBudgets(main) {
  const isCurrent = begin();
  const body = h('div', {});
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-budgets' }, h('h2', {}, 'Budgets'), body));
  try {
    const r = await getJson('/api/cost/budgets');
    if (!isCurrent()) return;
    if (!r.configured) {
      body.replaceChildren(h('div', { class: 'empty', 'data-testid': 'budgets-empty' },
        h('p', {}, 'No budgets file was given to `sagebox serve`.'),
        h('p', { class: 'muted' }, 'Start it with `--budgets FILE` (the output of `aws budgets describe-budgets`, see docs/budgets.md) to see each budget against the store here.')));
      publish('budgets', { labels: [], datasets: [] }, null, { budgets: { configured: false } });
      ready(isCurrent);
      return;
    }
    const budgets = r.budgets || [];
    const cards = budgets.map((b) => {
      const limit = num(b.limit);
      const actual = num(b.actual);
      const fc = num(b.forecast);
      const scale = Math.max(limit || 0, actual || 0, fc || 0) || 1;
      const pct = (v) => `${Math.max(0, Math.min(100, (v / scale) * 100)).toFixed(2)}%`;
      const over = limit !== null && actual !== null && actual > limit;
      const unit = b.unit === 'PERCENTAGE' ? '%' : b.unit || '';
      return h('div', { class: 'budget', 'data-testid': 'budget', 'data-name': b.name },
        h('div', { class: 'budget-head' },
          h('strong', {}, b.name),
          h('span', { class: `pct ${over ? 'over' : ''}`, 'data-testid': 'budget-percent' }, b.percent_used !== undefined && b.percent_used !== null ? `${b.percent_used}% used` : '')),
        h('div', { class: 'muted small' }, `${b.type || ''} · ${b.period ? `${b.period.start} to ${b.period.end}` : ''}`),
        h('div', { class: 'bars' },
          h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, 'Actual'), h('span', { class: 'bar-track' }, actual !== null ? h('span', { class: `bar actual ${over ? 'over' : ''}`, style: `width:${pct(actual)}` }) : null), h('span', { class: 'bar-val', 'data-testid': 'budget-actual', 'data-amount': b.actual ?? '' }, b.actual !== null && b.actual !== undefined ? `${displayDec(b.actual)} ${unit}` : '—')),
          h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, 'Forecast'), h('span', { class: 'bar-track' }, fc !== null ? h('span', { class: 'bar forecast', style: `width:${pct(fc)}` }) : null), h('span', { class: 'bar-val', 'data-testid': 'budget-forecast', 'data-amount': b.forecast ?? '' }, b.forecast !== null && b.forecast !== undefined ? `${displayDec(b.forecast)} ${unit}` : '—')),
          h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, 'Limit'), h('span', { class: 'bar-track' }, limit !== null ? h('span', { class: 'bar limit', style: `width:${pct(limit)}` }) : null), h('span', { class: 'bar-val', 'data-testid': 'budget-limit', 'data-amount': b.limit ?? '' }, b.limit !== null && b.limit !== undefined ? `${displayDec(b.limit)} ${unit}` : '—'))),
        (b.alerts || []).length ? h('ul', { class: 'alerts', 'data-testid': 'budget-alerts' }, b.alerts.map((a) => h('li', { 'data-testid': 'budget-alert', title: a.threshold !== undefined ? `threshold ${a.threshold}` : null }, h('strong', {}, `${a.type || 'ALERT'}: `), a.text || ''))) : h('p', { class: 'muted small' }, 'No alerts.'),
        b.note ? h('p', { class: 'muted small' }, b.note) : null,
        b.error ? h('p', { class: 'error-inline', 'data-testid': 'budget-error' }, b.error) : null);
    });
    body.replaceChildren(
      h('p', { class: 'muted' }, `As of ${r.as_of || '—'} (the store's last day). Viewing does not record alert state or call webhooks.`),
      budgets.length ? h('div', { class: 'budgets', 'data-testid': 'budgets' }, cards) : h('div', { class: 'empty', 'data-testid': 'budgets-none' }, 'The budgets file has no budgets.'),
    );
    const series = {
      labels: budgets.map((b) => b.name),
      datasets: [
        { label: 'Actual', data: budgets.map((b) => num(b.actual)) },
        { label: 'Forecast', data: budgets.map((b) => num(b.forecast)) },
        { label: 'Limit', data: budgets.map((b) => num(b.limit)) },
      ],
    };
    publish('budgets', series, null, { budgets: { configured: true, count: budgets.length } });
    ready(isCurrent);
  } catch (err) {
    fail(isCurrent, err);
  }
}
