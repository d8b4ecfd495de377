// Browser test of the dashboard's Endpoint tab: a real `sagebox endpoint serve` over a model
// store holding two tiny Python-backend models (Triton's add_sub shape, written here), a few
// KServe v2 inferences, then headless Debian Chromium at 1366×768 on `#/endpoint`. Every
// number the page shows for a model (requests, hits, misses, hit ratio, money cells, the
// header) is compared with the /api/endpoint/models answer the page rendered, and requests,
// hits and misses also with an independent fetch and with the number of calls the test made.
// Also: sorting by column, the 5 s refresh (driven by Playwright's fake clock) and that it
// stops when leaving the tab, the endpoint picker after CreateEndpoint makes a second
// endpoint, and the "no endpoint is being served" message on a `sagebox serve` without one
// (the Cost tab still works there).
//
// Usage: node tests/browser/endpoint_test.mjs path/to/sagebox
//   env SAGEBOX_ARTIFACTS=DIR    screenshots go there (default tests/browser/artifacts/)
//   env SAGEBOX_TEST_MOCK=1      use web/dev/mock-server.mjs and its fixture (no inference;
//                                the binary is only passed through; builds web/ itself)
//   env SAGEBOX_TEST_PERTURB=1   change one expected number to prove the comparison can fail
// Needs `npm ci` in web/ (playwright-core) and /usr/bin/chromium; /usr/bin/python3 with numpy.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  check, getJson, launchChromium, launchServer, MOCK, MOCK_SERVER, mockDist, run, sageboxFromArgs, screenshots,
  serverCount, settled, step,
} from './harness.mjs';

const sagebox = sageboxFromArgs(import.meta.url);
const PERTURB = process.env.SAGEBOX_TEST_PERTURB === '1';
const shot = screenshots({ fullPage: true });

// ---- the model store: two Python models in Triton's layout ------------------------------------
const tmp = mkdtempSync(join(tmpdir(), 'sagebox-endpoint-browser-'));
const models = join(tmp, 'models');
function writeModel(name, op) {
  mkdirSync(join(models, name, '1'), { recursive: true });
  writeFileSync(join(models, name, 'config.pbtxt'), `name: "${name}"
backend: "python"
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] }
]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
`);
  writeFileSync(join(models, name, '1', 'model.py'), `import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            a = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "INPUT1").as_numpy()
            out = pb_utils.Tensor("OUTPUT0", (${op}).astype(np.float32))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
`);
}
writeModel('add_sub', 'a + b');
writeModel('mul', 'a * b');

// ---- servers ------------------------------------------------------------------------------------
// `withEndpoint`: `sagebox endpoint serve --models` (else plain `sagebox serve`).
async function startServer({ withEndpoint }) {
  const portFile = join(tmp, `port-${serverCount()}`);
  const data = join(tmp, `data-${serverCount()}`);
  mkdirSync(data, { recursive: true });
  if (MOCK) {
    const args = [MOCK_SERVER, '--sagebox', sagebox, '--store', data, '--dist', mockDist(tmp),
      '--listen', '127.0.0.1:0', '--port-file', portFile];
    if (!withEndpoint) args.push('--endpoint-json', 'none');
    return launchServer('node', args, portFile);
  }
  if (withEndpoint) {
    return launchServer(sagebox, ['--data', data, 'endpoint', 'serve', '--models', models, '--memory-budget', '2GiB',
      '--instance-type', 'ml.g5.2xlarge', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
  }
  return launchServer(sagebox, ['--data', data, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
}

// POST /v2/models/<name>/infer with a KServe JSON body; checks the answer is the model's op.
async function infer(base, name, a, b, expect) {
  const body = {
    inputs: [
      { name: 'INPUT0', shape: [4], datatype: 'FP32', data: a },
      { name: 'INPUT1', shape: [4], datatype: 'FP32', data: b },
    ],
  };
  const r = await fetch(`${base}/v2/models/${name}/infer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  check(r.ok, `infer ${name}: HTTP ${r.status} ${text}`);
  const out = JSON.parse(text).outputs.find((o) => o.name === 'OUTPUT0');
  check(out && JSON.stringify(out.data) === JSON.stringify(expect), `infer ${name}: OUTPUT0 ${JSON.stringify(out && out.data)}, expected ${JSON.stringify(expect)}`);
}

// The SageMaker control plane (an open server takes unsigned calls on loopback).
async function sagemaker(base, op, body) {
  const r = await fetch(`${base}/`, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `SageMaker.${op}` }, body: JSON.stringify(body) });
  const text = await r.text();
  check(r.ok, `${op}: HTTP ${r.status} ${text}`);
  return JSON.parse(text);
}

// ---- page helpers ---------------------------------------------------------------------------------
const refreshes = (page) => page.evaluate(() => (window.__sagebox && window.__sagebox.endpoint ? window.__sagebox.endpoint.refreshes : 0));
// Runs the page's clock past one refresh period and waits until the page rendered the answer.
async function nextRefresh(page) {
  const before = await refreshes(page);
  await page.clock.runFor(5000);
  await page.waitForFunction((n) => window.__sagebox && window.__sagebox.endpoint && window.__sagebox.endpoint.refreshes > n, before, { timeout: 30000 });
}

// What the page shows, read in one go (no render can happen in between).
function readPage(page) {
  return page.evaluate(() => {
    const text = (sel, root = document) => {
      const el = root.querySelector(sel);
      return el ? el.textContent.trim() : null;
    };
    const rows = [...document.querySelectorAll('[data-testid=model-row]')].map((tr) => {
      const cells = {};
      for (const td of tr.querySelectorAll('td')) cells[td.dataset.col] = { text: td.textContent.trim(), value: td.dataset.value, amount: td.dataset.amount };
      return { name: tr.dataset.model, cells };
    });
    const mem = document.querySelector('[data-testid=endpoint-memory]');
    return {
      refreshes: window.__sagebox && window.__sagebox.endpoint ? window.__sagebox.endpoint.refreshes : null,
      name: text('[data-testid=endpoint-name] .figure-value'),
      instanceType: text('[data-testid=endpoint-instance-type] .figure-value'),
      price: document.querySelector('[data-testid=endpoint-price] .figure-value')?.dataset.amount,
      priceSource: text('[data-testid=endpoint-price] .price-source'),
      loaded: text('[data-testid=endpoint-loaded] .figure-value'),
      hitRatio: text('[data-testid=endpoint-hit-ratio] .figure-value'),
      memUsed: mem ? mem.dataset.used : null,
      memBudget: mem ? mem.dataset.budget : null,
      cost: document.querySelector('[data-testid=endpoint-cost] .figure-value')?.dataset.amount,
      dedicated: document.querySelector('[data-testid=endpoint-dedicated]')?.dataset.amount,
      picker: document.querySelector('[data-testid=endpoint-picker]') ? [...document.querySelectorAll('[data-testid=endpoint-picker] option')].map((o) => o.value) : null,
      sortedBy: [...document.querySelectorAll('[data-testid=endpoint-models] th')].filter((th) => th.getAttribute('aria-sort') !== 'none').map((th) => `${th.dataset.col}:${th.getAttribute('aria-sort')}`),
      rows,
    };
  });
}

const pct = (hits, misses) => (hits + misses ? `${((100 * hits) / (hits + misses)).toFixed(1)}%` : '—');

// Compares the page with `answer` (the /api/endpoint/models body it rendered) and `ep`
// (its /api/endpoint/endpoints entry). Counters must be exact; money cells carry the
// API's exact string in data-amount.
function compare(shown, answer, ep) {
  const want = answer.models.map((m) => ({ ...m }));
  if (PERTURB && want.length) want[0].requests += 1;
  check(shown.name === answer.endpoint, `endpoint name ${shown.name}, API ${answer.endpoint}`);
  check(shown.instanceType === answer.instance_type, `instance type ${shown.instanceType}, API ${answer.instance_type}`);
  check(shown.price === (answer.usd_per_hour ?? ''), `price ${shown.price}, API ${answer.usd_per_hour}`);
  check(shown.priceSource === answer.price_source, `price source ${shown.priceSource}, API ${answer.price_source}`);
  check(shown.cost === answer.endpoint_cost_usd, `endpoint cost ${shown.cost}, API ${answer.endpoint_cost_usd}`);
  check(shown.dedicated === answer.dedicated_endpoints_cost_usd, `dedicated total ${shown.dedicated}, API ${answer.dedicated_endpoints_cost_usd}`);
  check(shown.memUsed === String(ep.memory_used_bytes) && shown.memBudget === String(ep.memory_budget_bytes), `memory ${shown.memUsed}/${shown.memBudget}, API ${ep.memory_used_bytes}/${ep.memory_budget_bytes}`);
  check(shown.loaded === `${ep.loaded_models} of ${answer.models.length}`, `loaded models "${shown.loaded}", API ${ep.loaded_models} of ${answer.models.length}`);
  check(shown.hitRatio === pct(ep.hits, ep.misses), `overall hit ratio ${shown.hitRatio}, API ${ep.hits} hits ${ep.misses} misses`);
  check(shown.rows.length === want.length, `${shown.rows.length} rows, API ${want.length} models`);
  let cells = 0;
  for (const m of want) {
    const row = shown.rows.find((r) => r.name === m.name);
    check(row, `no row for model ${m.name}`);
    const c = row.cells;
    for (const k of ['requests', 'hits', 'misses', 'errors', 'queue_depth']) {
      check(c[k].text === String(m[k]) && c[k].value === String(m[k]), `${m.name} ${k}: page "${c[k].text}", API ${m[k]}`);
      cells++;
    }
    check(c.state.text === m.state, `${m.name} state: page ${c.state.text}, API ${m.state}`);
    check(c.backend.text === (m.backend || '—'), `${m.name} backend: page ${c.backend.text}, API ${m.backend}`);
    check(c.hit_ratio.text === pct(m.hits, m.misses), `${m.name} hit ratio: page ${c.hit_ratio.text}, API ${m.hits}/${m.misses}`);
    check(c.bytes.value === String(m.bytes), `${m.name} bytes: page ${c.bytes.value}, API ${m.bytes}`);
    for (const k of ['p50_us', 'p99_us']) check(c[k].value === String(m[k]), `${m.name} ${k}: page ${c[k].value}, API ${m[k]}`);
    for (const k of ['cost_usd', 'cost_per_1000_requests_usd', 'dedicated_endpoint_usd']) {
      check(c[k].amount === (m[k] ?? ''), `${m.name} ${k}: page ${c[k].amount}, API ${m[k]}`);
      if (m[k] === undefined || m[k] === null) check(c[k].text === '—', `${m.name} ${k}: shows ${c[k].text} for no value`);
      cells++;
    }
    cells += 5;
  }
  return cells;
}

// Records every /api/endpoint/models body the page receives, in order, so a render can be
// compared with exactly the answer it came from (costs grow with uptime between answers).
function recordAnswers(page) {
  const answers = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/api/endpoint/models' && r.ok()) answers.push(r.json());
  });
  return answers;
}
// The page's current render and the answer it was made from: the page renders right after
// each answer arrives, so it shows the newest one once no request is pending.
async function shownWithAnswer(page, answers) {
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  const shown = await readPage(page);
  const answer = await answers[answers.length - 1];
  return { shown, answer };
}

// ---- the test ---------------------------------------------------------------------------------------
await run(tmp, async () => {
  const base = await startServer({ withEndpoint: true });
  console.log(`server at ${base} (${MOCK ? 'mock' : 'sagebox endpoint serve'}), models in ${models}`);
  const calls = { add_sub: 0, mul: 0 };
  if (!MOCK) {
    await infer(base, 'add_sub', [1, 2, 3, 4], [10, 20, 30, 40], [11, 22, 33, 44]);
    await infer(base, 'add_sub', [0.5, 0, -1, 2], [0.5, 1, 1, 2], [1, 1, 0, 4]);
    await infer(base, 'add_sub', [1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 2, 2]);
    await infer(base, 'mul', [1, 2, 3, 4], [2, 2, 2, 2], [2, 4, 6, 8]);
    calls.add_sub = 3;
    calls.mul = 1;
  }
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const pageErrors = [];
  // errors while the Endpoint tab is shown (the Cost tab is dashboard_test.mjs's business)
  const onEndpoint = () => new URL(page.url()).hash.startsWith('#/endpoint');
  page.on('pageerror', (e) => onEndpoint() && pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && onEndpoint() && pageErrors.push(`console: ${m.text()}`));
  const endpointRequests = [];
  page.on('request', (r) => new URL(r.url()).pathname.startsWith('/api/endpoint/') && endpointRequests.push(r.url()));
  const answers = recordAnswers(page);
  // Timers run only when the test moves the clock: each refresh is one the test asked for.
  await page.clock.install();
  await page.clock.pauseAt(Date.now() + 1000);

  await step('endpoint tab: header and every model row equal /api/endpoint/models', async () => {
    await page.goto(`${base}/#/endpoint`);
    await settled(page, 'endpoint tab');
    const tabs = await page.$$eval('[data-testid=module-tabs] a', (as) => as.map((a) => [a.dataset.module, a.textContent, a.classList.contains('active')]));
    check(JSON.stringify(tabs) === JSON.stringify([['cost', 'Cost', false], ['endpoint', 'Endpoint', true], ['rag', 'Ask', false], ['label', 'Label', false], ['pipeline', 'Pipeline', false]]), `module tabs: ${JSON.stringify(tabs)}`);
    const { shown, answer } = await shownWithAnswer(page, answers);
    const eps = (await getJson(`${base}/api/endpoint/endpoints`)).endpoints;
    const ep = eps.find((e) => e.name === answer.endpoint);
    check(ep, `${answer.endpoint} is not in /api/endpoint/endpoints`);
    const cells = compare(shown, answer, ep);
    // counters do not move without requests: an independent fetch agrees, and so do the calls made
    const now = await getJson(`${base}/api/endpoint/models?endpoint=${encodeURIComponent(answer.endpoint)}`);
    for (const m of now.models) {
      const row = shown.rows.find((r) => r.name === m.name);
      for (const k of ['requests', 'hits', 'misses']) check(row.cells[k].text === String(m[k]), `${m.name} ${k}: page ${row.cells[k].text}, a fresh GET says ${m[k]}`);
    }
    if (!MOCK) {
      for (const [name, n] of Object.entries(calls)) {
        const row = shown.rows.find((r) => r.name === name);
        check(row.cells.requests.text === String(n), `${name}: page shows ${row.cells.requests.text} requests, the test made ${n}`);
        check(Number(row.cells.misses.text) >= 1, `${name}: the first call must have been a miss (cold model), page shows ${row.cells.misses.text}`);
        check(row.cells.state.text === 'loaded', `${name}: state ${row.cells.state.text} after serving`);
      }
      check(shown.picker === null, 'endpoint picker shown with one endpoint');
    }
    const hook = await page.evaluate(() => window.__sagebox);
    check(hook.view === 'endpoint' && hook.chart && hook.chart.datasets.length === 2, `chart hook: ${JSON.stringify(hook.chart)}`);
    for (const [i, label] of hook.chart.labels.entries()) {
      const m = answer.models.find((x) => x.name === label);
      check(m && Math.abs(hook.chart.datasets[0].data[i] - Number(m.cost_usd)) < 1e-9 && Math.abs(hook.chart.datasets[1].data[i] - Number(m.dedicated_endpoint_usd)) < 1e-9, `chart bar ${label} does not match the API`);
    }
    await shot(page, 'endpoint-01-models');
    console.log(`     ${cells} cells, ${shown.rows.length} models`);
  });

  await step('endpoint tab: sorting by a column orders the rows by the API values', async () => {
    const { answer } = await shownWithAnswer(page, answers);
    await page.click('[data-testid=sort-requests]');
    let shown = await readPage(page);
    const desc = answer.models.slice().sort((a, b) => b.requests - a.requests || a.name.localeCompare(b.name)).map((m) => m.name);
    check(JSON.stringify(shown.rows.map((r) => r.name)) === JSON.stringify(desc), `by requests, descending: ${shown.rows.map((r) => r.name)}; expected ${desc}`);
    check(JSON.stringify(shown.sortedBy) === JSON.stringify(['requests:descending']), `aria-sort: ${shown.sortedBy}`);
    await shot(page, 'endpoint-02-sorted-by-requests');
    await page.click('[data-testid=sort-requests]');
    shown = await readPage(page);
    const asc = answer.models.slice().sort((a, b) => a.requests - b.requests || a.name.localeCompare(b.name)).map((m) => m.name);
    check(JSON.stringify(shown.rows.map((r) => r.name)) === JSON.stringify(asc), `by requests, ascending: ${shown.rows.map((r) => r.name)}; expected ${asc}`);
    await page.click('[data-testid=sort-name]');
    shown = await readPage(page);
    const byName = answer.models.map((m) => m.name).sort((a, b) => a.localeCompare(b));
    check(JSON.stringify(shown.rows.map((r) => r.name)) === JSON.stringify(byName), `by name: ${shown.rows.map((r) => r.name)}`);
  });

  await step('endpoint tab: refreshes every 5 s with new numbers, and the sort order stays', async () => {
    await page.click('[data-testid=sort-requests]'); // descending
    if (!MOCK) {
      for (let i = 0; i < 4; i++) await infer(base, 'mul', [1, 2, 3, 4], [1, 1, 1, 1], [1, 2, 3, 4]);
      calls.mul += 4;
    }
    const before = await refreshes(page);
    await nextRefresh(page);
    const { shown, answer } = await shownWithAnswer(page, answers);
    check(shown.refreshes === before + 1, `one clock period gave ${shown.refreshes - before} refreshes`);
    const eps = (await getJson(`${base}/api/endpoint/endpoints`)).endpoints;
    compare(shown, answer, eps.find((e) => e.name === answer.endpoint));
    if (!MOCK) {
      const row = shown.rows.find((r) => r.name === 'mul');
      check(row.cells.requests.text === String(calls.mul), `mul: page shows ${row.cells.requests.text} requests after the refresh, the test made ${calls.mul}`);
      check(shown.rows[0].name === 'mul', `sorted by requests (descending) the first row is ${shown.rows[0].name}, not mul`);
    }
    check(JSON.stringify(shown.sortedBy) === JSON.stringify(['requests:descending']), `sort lost on refresh: ${shown.sortedBy}`);
  });

  await step('endpoint tab: no refresh after leaving the tab', async () => {
    await page.click('[data-testid=tab-cost]');
    await page.waitForFunction(() => document.querySelector('[data-testid=tab-cost]').classList.contains('active') && ['ready', 'error'].includes(document.body.dataset.state));
    const n = endpointRequests.length;
    await page.clock.runFor(20000);
    await page.waitForTimeout(300);
    check(endpointRequests.length === n, `${endpointRequests.length - n} /api/endpoint/ requests after leaving the tab`);
    await page.click('[data-testid=tab-endpoint]');
    await settled(page, 'back to the endpoint tab');
  });

  await step('endpoint tab: the picker switches to a second endpoint', async () => {
    let second = 'cpu-models';
    if (!MOCK) {
      second = 'second';
      await sagemaker(base, 'CreateModel', { ModelName: 'second-model', PrimaryContainer: { ModelDataUrl: models, Mode: 'MultiModel', Image: 'sagebox' }, ExecutionRoleArn: 'arn:aws:iam::000000000000:role/test' });
      await sagemaker(base, 'CreateEndpointConfig', { EndpointConfigName: 'second-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'second-model', InstanceType: 'ml.m5.xlarge', InitialInstanceCount: 1 }] });
      await sagemaker(base, 'CreateEndpoint', { EndpointName: second, EndpointConfigName: 'second-config' });
      const r = await fetch(`${base}/endpoints/${second}/invocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Amzn-SageMaker-Target-Model': 'add_sub' },
        body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'INPUT1', shape: [4], datatype: 'FP32', data: [1, 1, 1, 1] }] }),
      });
      check(r.ok, `InvokeEndpoint on ${second}: HTTP ${r.status} ${await r.text()}`);
      await nextRefresh(page);
    }
    let shown = await readPage(page);
    check(shown.picker && shown.picker.includes(second), `picker: ${JSON.stringify(shown.picker)}`);
    await page.selectOption('[data-testid=endpoint-picker]', second);
    await page.waitForFunction((n) => window.__sagebox && window.__sagebox.endpoint && window.__sagebox.endpoint.name === n, second);
    check(new URL(page.url()).hash === `#/endpoint/models?endpoint=${second}`, `URL after picking: ${page.url()}`);
    const got = await shownWithAnswer(page, answers);
    shown = got.shown;
    check(got.answer.endpoint === second, `the page asked for ${got.answer.endpoint}`);
    const eps = (await getJson(`${base}/api/endpoint/endpoints`)).endpoints;
    compare(shown, got.answer, eps.find((e) => e.name === second));
    if (!MOCK) {
      const row = shown.rows.find((r) => r.name === 'add_sub');
      check(row.cells.requests.text === '1', `${second}/add_sub: ${row.cells.requests.text} requests, the test made 1`);
      check(shown.instanceType === 'ml.m5.xlarge', `instance type ${shown.instanceType}`);
    }
    await shot(page, 'endpoint-03-second-endpoint');
  });

  await step('endpoint tab: no page errors', async () => {
    check(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
  });

  await step('no endpoint: the tab says how to start one, the Cost tab still works', async () => {
    const plain = await startServer({ withEndpoint: false });
    const res = await fetch(`${plain}/api/endpoint/endpoints`);
    check(res.status === 404, `/api/endpoint/endpoints on a server without an endpoint: HTTP ${res.status}`);
    const p = await context.newPage();
    const errs = [];
    p.on('pageerror', (e) => errs.push(String(e)));
    await p.goto(`${plain}/#/endpoint`);
    await settled(p, 'endpoint tab without an endpoint');
    const none = p.locator('[data-testid=endpoint-none]');
    check(await none.isVisible(), 'no "no endpoint" message');
    const text = await none.textContent();
    check(/no endpoint is being served/i.test(text) && text.includes('sagebox endpoint serve --models DIR'), `message: ${text}`);
    check(!(await p.locator('[data-testid=error]').isVisible()), 'an error box next to the message');
    await shot(p, 'endpoint-04-no-endpoint');
    await p.click('[data-testid=tab-cost]');
    await p.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state) && document.querySelector('[data-testid=tab-cost]').classList.contains('active'));
    check(await p.locator('main section, main .empty').first().isVisible(), 'the Cost tab shows nothing after the Endpoint tab');
    check(!(await p.locator('[data-testid=endpoint-none]').isVisible()), 'the endpoint message is left on the Cost tab');
    check(errs.length === 0, `page errors: ${errs.join(' | ')}`);
    await p.close();
  });
});
