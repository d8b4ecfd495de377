// The Pipeline tab (`#/pipeline/executions`, `#/pipeline/executions?execution=ARN`): the
// executions `sagebox pipeline run` (or StartExecution) made, from the Step Functions API
// (AWS JSON 1.0 on `POST /`), and per execution its state machine drawn from the definition
// with each state's status from the history, Map progress, the candidates' runs (MLflow
// runs/search, tag `sagebox.execution`) with metrics and costs, and the best model per stage
// (model versions with that tag). Refreshed every 5 s while the execution (or, on the list,
// any execution) is RUNNING and the tab is shown. Server text reaches the DOM as text nodes.
import { ApiError, apiUrl, getJson, postJson } from './api.js';
import { compareDec, sumDec } from './decimal.js';
import { begin, fail, figure, h, publish, ready, showError } from './ui.js';

export const REFRESH_MS = 5000;
const RUN_HINT = 'sagebox pipeline run examples/pipeline/ocx.yaml';

// ---- the Step Functions API ---------------------------------------------------------------------
// The reading actions at GET /api/pipeline/sfn/<Action>?input=<body> (pipeline/api/sfn_routes.h):
// AWS's shapes, but a JSON API route, so a session or a bearer token opens it where AWS's route
// wants SigV4, and errors come in the API's one shape. DescribeExecution also carries costUsd,
// the execution's exact job cost. A 401 is left to the callers (quiet401), as before.
export function sfn(action, body = {}) {
  return getJson(`/api/pipeline/sfn/${action}`, { input: JSON.stringify(body) }, { quiet401: true });
}

// Every page of a paged Step Functions list (`key`), at most `limit` items.
async function sfnAll(action, body, key, limit = 5000) {
  const out = [];
  let nextToken;
  do {
    const r = await sfn(action, { ...body, maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
    out.push(...(r[key] || []));
    nextToken = r.nextToken;
  } while (nextToken && out.length < limit);
  return out;
}

// ---- formatting -------------------------------------------------------------------------------
export function formatTime(sec) {
  if (sec === null || sec === undefined) return '—';
  const d = new Date(Number(sec) * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatDuration(start, stop) {
  if (start === null || start === undefined) return '—';
  const end = stop ?? Date.now() / 1000;
  const s = Math.max(0, end - start);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const statusBadge = (status) => h('span', { class: `badge sfn-${String(status || '').toLowerCase()}`, 'data-testid': 'status' }, status || '—');
const machineOf = (arn) => String(arn || '').split(':').slice(-1)[0];
const tagMap = (tags) => Object.fromEntries((tags || []).map((t) => [t.key, t.value]));

// ---- the history, state by state ------------------------------------------------------------------
// One pass over the events: each "run" of a state (StateEntered … StateExited) found through
// previousEventId chains (an event follows the previous event of its frame; a Map iteration's
// first event follows MapStateStarted). Returns, per state name, how its runs ended:
// {succeeded, caught, failed, running, runs} and per Map state {length, started, succeeded,
// failed, aborted}. `ended`: the execution is no longer RUNNING (an open run then failed).
export function summarizeHistory(events, ended) {
  const byId = new Map(events.map((e) => [e.id, e]));
  const owner = new Map(); // event id → run
  const runs = [];
  const maps = {};
  const ERR = new Set(['TaskFailed', 'TaskTimedOut', 'TaskStartFailed', 'TaskSubmitFailed', 'MapStateFailed', 'MapStateAborted', 'ParallelStateFailed', 'ParallelStateAborted']);
  const OK = new Set(['TaskSucceeded', 'MapStateSucceeded', 'ParallelStateSucceeded']);
  const ancestor = (run, pred) => {
    for (let r = run; r; r = r.parent) if (pred(r)) return r;
    return null;
  };
  const ordered = events.slice().sort((a, b) => a.id - b.id);
  for (const e of ordered) {
    const prev = byId.get(e.previousEventId);
    const prevRun = prev ? owner.get(prev.id) || null : null;
    const t = e.type;
    let run = prevRun;
    if (t.endsWith('StateEntered')) {
      const d = e.stateEnteredEventDetails || {};
      // after a sibling's exit: a sibling; after ExecutionStarted, MapIterationStarted or
      // ParallelStateStarted: a child of that scope's run
      const parent = prev && prev.type.endsWith('StateExited') ? (prevRun ? prevRun.parent : null) : prevRun;
      run = { name: d.name, type: t.slice(0, -'StateEntered'.length), parent, exited: false, outcome: null };
      runs.push(run);
    } else if (t.startsWith('MapIteration')) {
      const d = e[`${t[0].toLowerCase()}${t.slice(1)}EventDetails`] || {};
      run = ancestor(prevRun, (r) => r.type === 'Map' && r.name === d.name) || prevRun;
      const m = (maps[d.name] ||= { length: 0, started: 0, succeeded: 0, failed: 0, aborted: 0 });
      if (t === 'MapIterationStarted') m.started++;
      else if (t === 'MapIterationSucceeded') m.succeeded++;
      else if (t === 'MapIterationFailed') m.failed++;
      else if (t === 'MapIterationAborted') m.aborted++;
    } else if (/^(Map|Parallel)State(Succeeded|Failed|Aborted)$/.test(t)) {
      const kind = t.startsWith('Map') ? 'Map' : 'Parallel';
      run = ancestor(prevRun, (r) => r.type === kind) || prevRun;
    }
    if (t === 'MapStateStarted' && run) {
      const m = (maps[run.name] ||= { length: 0, started: 0, succeeded: 0, failed: 0, aborted: 0 });
      m.length += Number((e.mapStateStartedEventDetails || {}).length) || 0;
    }
    if (run) {
      if (ERR.has(t)) run.outcome = 'fail';
      else if (OK.has(t)) run.outcome = 'ok';
      if (t.endsWith('StateExited')) run.exited = true;
    }
    owner.set(e.id, run);
  }
  const states = {};
  for (const r of runs) {
    const s = (states[r.name] ||= { runs: 0, succeeded: 0, caught: 0, failed: 0, running: 0 });
    s.runs++;
    if (r.exited) s[r.outcome === 'fail' ? 'caught' : 'succeeded']++;
    else s[ended ? 'failed' : 'running']++;
  }
  return { states, maps };
}

// One colour for a state: running, failed, caught, succeeded, or not run.
export function stateStatus(s) {
  if (!s || !s.runs) return 'not-run';
  if (s.running) return 'running';
  if (s.failed) return 'failed';
  if (s.caught) return 'caught';
  return 'succeeded';
}

function countsText(s) {
  if (!s || !s.runs) return 'not run';
  const parts = [];
  for (const k of ['succeeded', 'caught', 'failed', 'running']) if (s[k]) parts.push(`${s[k]} ${k}`);
  return parts.join(', ');
}

// ---- the drawing ---------------------------------------------------------------------------------
// A scope's state names in the order they run: from StartAt along Next, then the Choice,
// Default and Catch targets met on the way (each followed along its Next), then any state
// left over in definition order. (A compiled pipeline's keys are sorted, so the definition's
// own order is alphabetical.)
export function flowOrder(scope) {
  const states = scope.States || {};
  const order = [];
  const seen = new Set();
  const queue = [scope.StartAt];
  while (queue.length) {
    let n = queue.shift();
    while (n && Object.hasOwn(states, n) && !seen.has(n)) {
      seen.add(n);
      order.push(n);
      const st = states[n] || {};
      for (const c of st.Choices || []) queue.push(c.Next);
      if (st.Default) queue.push(st.Default);
      for (const c of st.Catch || []) queue.push(c.Next);
      n = st.Next;
    }
  }
  for (const n of Object.keys(states)) if (!seen.has(n)) order.push(n);
  return order;
}

// The states of one scope (a definition, a Map's processor, a Parallel branch) in definition
// order, top to bottom; Map and Parallel states contain their scopes.
function drawScope(scope, summary, depth) {
  const names = flowOrder(scope || {});
  // an arrow from a state to the one below it only when that is its Next
  return h('ol', { class: 'sfn-scope', 'data-depth': String(depth) }, names.map((name, i) =>
    drawState(name, scope.States[name], summary, depth, i > 0 && scope.States[names[i - 1]].Next === name)));
}

function drawState(name, st, summary, depth, follows) {
  const s = summary.states[name];
  const status = stateStatus(s);
  const links = [];
  if (st.Next) links.push(['next', `→ ${st.Next}`]);
  if (st.End) links.push(['end', 'End']);
  if (st.Default) links.push(['choice', `default → ${st.Default}`]);
  for (const c of st.Choices || []) if (c.Next) links.push(['choice', `choice → ${c.Next}`]);
  for (const c of st.Catch || []) if (c.Next) links.push(['catch', `catch ${(c.ErrorEquals || []).join(', ')} → ${c.Next}`]);
  const body = [];
  if (st.Type === 'Map') {
    const m = summary.maps[name];
    const progress = m
      ? `${m.succeeded} of ${m.length} iterations succeeded, ${m.failed} failed${m.aborted ? `, ${m.aborted} aborted` : ''}`
      : 'no iterations yet';
    const pct = m && m.length ? Math.min(100, (100 * m.succeeded) / m.length) : 0;
    body.push(h('div', { class: 'sfn-progress', 'data-testid': 'map-progress', 'data-length': String(m ? m.length : 0), 'data-succeeded': String(m ? m.succeeded : 0), 'data-failed': String(m ? m.failed : 0) },
      h('span', { class: 'bar-track' }, h('span', { class: 'bar actual', style: `width:${pct.toFixed(1)}%` })), ' ', progress));
    const proc = st.ItemProcessor || st.Iterator;
    if (proc) body.push(drawScope(proc, summary, depth + 1));
  }
  if (st.Type === 'Parallel') {
    (st.Branches || []).forEach((b, i) => body.push(h('div', { class: 'sfn-branch' }, h('div', { class: 'muted small' }, `branch ${i + 1}`), drawScope(b, summary, depth + 1))));
  }
  return h('li', { class: `sfn-state sfn-${status}${follows ? ' sfn-follows' : ''}`, 'data-testid': 'state', 'data-state': name, 'data-type': st.Type || '', 'data-status': status, 'data-depth': String(depth) },
    h('div', { class: 'sfn-head' },
      h('span', { class: 'sfn-name' }, name),
      h('span', { class: 'muted small' }, ` ${st.Type || ''}`),
      h('span', { class: 'sfn-counts', 'data-testid': 'state-counts' }, s && s.runs > 1 ? `${name}: ${countsText(s)}` : status.replace('-', ' '))),
    links.length ? h('div', { class: 'sfn-links muted small' }, links.map(([k, text]) => h('span', { class: `sfn-link sfn-link-${k}` }, text))) : null,
    body);
}

// ---- the module ---------------------------------------------------------------------------------
// load(): the state machines, or why the Step Functions API cannot be used from the page.
export async function loadPipelineModule() {
  try {
    const machines = await sfnAll('ListStateMachines', {}, 'stateMachines');
    return { available: true, machines };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 401 || err.status === 400)) {
      return { available: false, machines: [], reason: `${err.code}: ${err.message}` };
    }
    throw err;
  }
}

export function pipelineStatus(ctx) {
  if (!ctx || !ctx.available) return 'Step Functions API not available to the page';
  const n = ctx.machines.length;
  return `${n} state machine${n === 1 ? '' : 's'}`;
}

// The shown view: timer; null when the tab is not shown.
let live = null;
// Kept between visits: the runs table's sort and stage filter.
const runSort = { col: 'name', desc: false };

export function leavePipeline() {
  if (!live) return;
  live.alive = false;
  if (live.timer !== null) clearTimeout(live.timer);
  live = null;
}

export function showPipeline({ main, params, ctx }) {
  leavePipeline();
  const isCurrent = begin();
  const arn = params.get('execution') || '';
  const root = h('section', { class: 'view', 'data-testid': 'view-pipeline' });
  main.replaceChildren(root);
  if (ctx && !ctx.available) {
    root.replaceChildren(h('div', { class: 'empty', 'data-testid': 'pipeline-unavailable' },
      h('p', {}, 'This page cannot read the executions of this server: ', ctx.reason || ''),
      h('p', {}, 'Sign in (or reload after signing in); ', h('code', {}, 'sagebox pipeline status'), ' shows them too.')));
    publish('pipeline', null, null, { pipeline: { available: false } });
    ready(isCurrent);
    return;
  }
  live = { alive: true, timer: null, refreshes: 0, stage: params.get('stage') || '' };
  const me = live;
  const tick = async () => {
    me.timer = null;
    if (!me.alive) return;
    let again = true;
    if (!document.hidden && location.hash.startsWith('#/pipeline')) {
      try {
        again = arn ? await renderExecution(root, arn, me) : await renderList(root, me);
        me.refreshes++;
        if (me.refreshes === 1) ready(isCurrent);
      } catch (err) {
        if (me.refreshes === 0) fail(isCurrent, err);
        else if (isCurrent()) {
          showError(err);
          document.body.dataset.state = 'error';
        }
      }
    }
    if (me.alive && again) me.timer = setTimeout(tick, REFRESH_MS);
  };
  tick();
}

// ---- the executions list ------------------------------------------------------------------------
async function renderList(root, me) {
  const machines = await sfnAll('ListStateMachines', {}, 'stateMachines');
  const all = [];
  for (const m of machines) all.push(...(await sfnAll('ListExecutions', { stateMachineArn: m.stateMachineArn }, 'executions')));
  if (!me.alive) return false;
  all.sort((a, b) => (b.startDate || 0) - (a.startDate || 0));
  const meta = document.getElementById('meta');
  if (meta) meta.textContent = `${pipelineStatus({ available: true, machines })} · ${all.length} execution${all.length === 1 ? '' : 's'}`;
  if (!all.length) {
    root.replaceChildren(h('div', { class: 'empty', 'data-testid': 'pipeline-none' },
      h('p', {}, 'No pipeline has run on this server yet.'),
      h('p', {}, 'Run one with ', h('code', {}, RUN_HINT), ' (on the same --data folder); its executions, state machine, runs and best models then show here.')));
    publish('pipeline', null, null, { pipeline: { executions: [] } });
    return true;
  }
  const rows = all.map((e) => h('tr', { 'data-testid': 'execution-row', 'data-arn': e.executionArn, 'data-status': e.status },
    h('td', { class: 'rowhead' }, h('a', { href: `#/pipeline/executions?${new URLSearchParams({ execution: e.executionArn })}`, 'data-testid': 'execution-link' }, e.name)),
    h('td', { class: 'text' }, machineOf(e.stateMachineArn)),
    h('td', { class: 'text' }, statusBadge(e.status)),
    h('td', {}, formatTime(e.startDate)),
    h('td', {}, formatDuration(e.startDate, e.stopDate)),
    h('td', {}, String(e.redriveCount ?? 0))));
  root.replaceChildren(
    h('h3', {}, 'Executions'),
    h('div', { class: 'table-wrap sfn-table' }, h('table', { class: 'data list sfn-executions', 'data-testid': 'executions' },
      h('thead', {}, h('tr', {}, ['Execution', 'State machine', 'Status', 'Started', 'Duration', 'Redrives'].map((c, i) => h('th', { class: i < 3 ? 'rowhead text' : '' }, c)))),
      h('tbody', {}, rows))));
  publish('pipeline', null, null, { pipeline: { executions: all.map((e) => ({ arn: e.executionArn, name: e.name, status: e.status })) } });
  return all.some((e) => e.status === 'RUNNING');
}

// ---- one execution ---------------------------------------------------------------------------------
async function renderExecution(root, arn, me) {
  const ex = await sfn('DescribeExecution', { executionArn: arn });
  const machine = await sfn('DescribeStateMachine', { stateMachineArn: ex.stateMachineArn });
  const events = await sfnAll('GetExecutionHistory', { executionArn: arn, includeExecutionData: false }, 'events', 1000000);
  const { runs, versions } = await loadMlflow(arn);
  if (!me.alive) return false;
  let definition = {};
  try {
    definition = JSON.parse(machine.definition);
  } catch {
    // shown as an empty drawing
  }
  const summary = summarizeHistory(events, ex.status !== 'RUNNING');
  const head = h('div', { class: 'figures', 'data-testid': 'execution-header' },
    figure('Execution', ex.name, 'execution-name'),
    figure('State machine', machine.name || machineOf(ex.stateMachineArn), 'execution-machine'),
    h('div', { class: 'figure', 'data-testid': 'execution-status', 'data-status': ex.status }, h('div', { class: 'figure-label' }, 'Status'), h('div', { class: 'figure-value' }, statusBadge(ex.status))),
    figure('Started', formatTime(ex.startDate), 'execution-start'),
    figure('Duration', formatDuration(ex.startDate, ex.stopDate), 'execution-duration'),
    figure('Redrives', String(ex.redriveCount ?? 0), 'execution-redrives'),
    // Every job of the execution, features included: catalog price × billable seconds.
    figure('Cost', ex.costUsd !== undefined ? `$${ex.costUsd}` : '—', 'execution-cost', ex.costUsd));
  const error = ex.error || ex.cause
    ? h('div', { class: 'sfn-error', 'data-testid': 'execution-error' }, h('strong', {}, ex.error || 'Error'), ex.cause ? h('pre', {}, ex.cause) : null)
    : null;
  const graph = h('div', { class: 'sfn-graph', 'data-testid': 'state-graph' }, drawScope(definition, summary, 0));
  const runsBox = h('div', { 'data-testid': 'runs-box' });
  renderRuns(runsBox, runs, me);
  root.replaceChildren(...[
    h('p', {}, h('a', { href: '#/pipeline/executions', 'data-testid': 'back' }, '← All executions')),
    head, error,
    h('h3', {}, 'State machine'), graph,
    h('h3', {}, 'Best model per stage'), renderModels(versions),
    h('h3', {}, 'Runs'), runsBox].filter(Boolean));
  publish('pipeline', null, null, {
    pipeline: {
      execution: arn,
      status: ex.status,
      states: summary.states,
      maps: summary.maps,
      runs: runs.length,
      refreshes: me.refreshes + 1,
    },
  });
  return ex.status === 'RUNNING';
}

// The runs of every experiment tagged with this execution, and the model versions.
async function loadMlflow(arn) {
  const filter = `tags.\`sagebox.execution\` = '${arn.replace(/'/g, "\\'")}'`;
  const exps = ((await postJson('/api/2.0/mlflow/experiments/search', { max_results: 1000 })).experiments || []).map((x) => x.experiment_id);
  const runs = [];
  if (exps.length) {
    let pageToken;
    do {
      const r = await postJson('/api/2.0/mlflow/runs/search', { experiment_ids: exps, filter, max_results: 1000, ...(pageToken ? { page_token: pageToken } : {}) });
      runs.push(...(r.runs || []));
      pageToken = r.next_page_token;
    } while (pageToken && runs.length < 100000);
  }
  const versions = [];
  let pageToken;
  do {
    const r = await getJson(apiUrl('/api/2.0/mlflow/model-versions/search', { filter, max_results: 1000, page_token: pageToken }));
    versions.push(...(r.model_versions || []));
    pageToken = r.next_page_token;
  } while (pageToken && versions.length < 100000);
  return { runs: runs.map(runRow), versions };
}

function runRow(r) {
  const tags = tagMap(r.data && r.data.tags);
  const metrics = Object.fromEntries(((r.data && r.data.metrics) || []).map((m) => [m.key, m.value]));
  return {
    id: r.info.run_id,
    name: r.info.run_name || tags['mlflow.runName'] || r.info.run_id,
    stage: tags['sagebox.stage'] || '',
    algorithm: tags['sagebox.algorithm'] || '',
    candidate: tags['sagebox.candidate'] || '',
    status: r.info.status || '',
    metrics,
    cost: tags['sagebox.cost_usd'] || '',
  };
}

function renderModels(versions) {
  if (!versions.length) {
    return h('div', { class: 'empty', 'data-testid': 'models-none' }, 'No model registered for this execution (yet): ', h('code', {}, 'sagebox-register-best'), ' registers the best candidate of each stage when its candidates are done.');
  }
  const rows = versions.map((v) => {
    const t = tagMap(v.tags);
    return { stage: t['sagebox.stage'] || '', model: v.name, version: String(v.version), alias: (v.aliases || []).join(', '), metric: t['sagebox.metric'] || '', job: t['sagebox.training_job'] || '' };
  }).sort((a, b) => a.stage.localeCompare(b.stage) || a.model.localeCompare(b.model));
  return h('div', { class: 'table-wrap sfn-table' }, h('table', { class: 'data list', 'data-testid': 'best-models' },
    h('thead', {}, h('tr', {}, ['Stage', 'Model', 'Version', 'Alias', 'Metric', 'Training job'].map((c) => h('th', { class: 'rowhead text' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', { 'data-testid': 'model-row', 'data-stage': r.stage },
      h('td', { class: 'rowhead', 'data-col': 'stage' }, r.stage), h('td', { class: 'text', 'data-col': 'model' }, r.model),
      h('td', { class: 'text', 'data-col': 'version' }, r.version), h('td', { class: 'text', 'data-col': 'alias' }, r.alias),
      h('td', { class: 'text', 'data-col': 'metric' }, r.metric), h('td', { class: 'text', 'data-col': 'training_job' }, r.job))))));
}

// Sorted copy: by a column id or `metric:<name>` (runs without the value last).
export function sortRuns(runs, col, desc) {
  const val = (r) => (col.startsWith('metric:') ? r.metrics[col.slice(7)] : r[col]);
  const missing = (v) => v === null || v === undefined || v === '';
  const cmp = (a, b) => (col === 'cost' ? compareDec(a, b) : col.startsWith('metric:') ? a - b : String(a).localeCompare(String(b)));
  return runs.slice().sort((x, y) => {
    const a = val(x);
    const b = val(y);
    if (missing(a) || missing(b)) return missing(a) - missing(b) || x.name.localeCompare(y.name);
    return (desc ? -cmp(a, b) : cmp(a, b)) || x.name.localeCompare(y.name);
  });
}

function renderRuns(box, all, me) {
  if (!all.length) {
    box.replaceChildren(h('div', { class: 'empty', 'data-testid': 'runs-none' }, 'No runs logged for this execution (yet): each candidate becomes an MLflow run when its stage registers its best model.'));
    return;
  }
  const stages = [...new Set(all.map((r) => r.stage))].sort();
  const runs = me.stage ? all.filter((r) => r.stage === me.stage) : all;
  const metricNames = [...new Set(all.flatMap((r) => Object.keys(r.metrics)))].sort();
  const cols = [
    { id: 'name', label: 'Run (training job)', cls: 'rowhead', cell: (r) => r.name },
    { id: 'stage', label: 'Stage', cls: 'text', cell: (r) => r.stage },
    { id: 'algorithm', label: 'Algorithm', cls: 'text', cell: (r) => r.algorithm },
    { id: 'status', label: 'Status', cls: 'text', cell: (r) => r.status },
    ...metricNames.map((m) => ({ id: `metric:${m}`, label: m, cell: (r) => (r.metrics[m] === undefined ? '—' : String(r.metrics[m])) })),
    { id: 'cost', label: 'Cost $', cell: (r) => (r.cost ? `$${r.cost}` : '—') },
  ];
  const sorted = sortRuns(runs, runSort.col, runSort.desc);
  const known = runs.map((r) => r.cost).filter((c) => c !== '');
  const total = known.length ? sumDec(known) : '0';
  const filter = h('select', {
    'data-testid': 'stage-filter',
    'aria-label': 'Stage',
    onchange: () => {
      me.stage = filter.value;
      renderRuns(box, all, me);
    },
  }, h('option', { value: '' }, 'All stages'), stages.map((s) => h('option', { value: s, selected: s === me.stage ? true : null }, s)));
  const head = h('tr', {}, cols.map((c) => {
    const on = runSort.col === c.id;
    return h('th', {
      class: `sortable ${c.cls || ''}`,
      'data-col': c.id,
      'data-testid': `sort-${c.id}`,
      'aria-sort': on ? (runSort.desc ? 'descending' : 'ascending') : 'none',
      onclick: () => {
        if (runSort.col === c.id) runSort.desc = !runSort.desc;
        else {
          runSort.col = c.id;
          runSort.desc = c.id.startsWith('metric:') || c.id === 'cost';
        }
        renderRuns(box, all, me);
      },
    }, c.label, on ? (runSort.desc ? ' ▼' : ' ▲') : '');
  }));
  const body = sorted.map((r) => h('tr', { 'data-testid': 'run-row', 'data-run': r.name, 'data-stage': r.stage }, cols.map((c) => {
    const attrs = { class: c.cls || null, 'data-col': c.id };
    if (c.id === 'cost') {
      attrs['data-amount'] = r.cost;
      attrs.title = r.cost || 'no cost recorded';
    } else if (c.id.startsWith('metric:')) {
      const v = r.metrics[c.id.slice(7)];
      attrs['data-value'] = v === undefined ? '' : String(v);
    }
    return h('td', attrs, c.cell(r));
  })));
  const foot = h('tr', {}, h('td', { class: 'rowhead' }, `Total of ${runs.length} run${runs.length === 1 ? '' : 's'}`),
    h('td', { colspan: String(cols.length - 2) }),
    h('td', { 'data-testid': 'runs-total', 'data-amount': total, title: `${known.length} of ${runs.length} runs have a cost` }, `$${total}`));
  box.replaceChildren(
    h('p', { class: 'controls' }, h('label', {}, 'Stage ', filter)),
    h('div', { class: 'table-wrap sfn-table' }, h('table', { class: 'data list sfn-runs', 'data-testid': 'runs' }, h('thead', {}, head), h('tbody', {}, body), h('tfoot', {}, foot))));
}
