// Browser test of the sagebox web UI: a real `sagebox serve` on a demo store, headless
// Debian Chromium at 1366×768, and every number the page shows compared with the CLI's answer
// to the same question (exact decimal strings in the table, ±0.005 in the chart). Also the
// module tab bar, old `#/explorer` links, the ?token= flow, and sign-in on a second server
// with a user (`sagebox --data DIR users add alice --password-stdin`): session cookie
// HttpOnly, CSRF header required, sign out.
//
// Usage: node tests/browser/dashboard_test.mjs path/to/sagebox
//   env SAGEBOX_ARTIFACTS=DIR    screenshots go there (default tests/browser/artifacts/)
//   env SAGEBOX_TEST_MOCK=1      use web/dev/mock-server.mjs instead of `sagebox serve`
//                                (development before the server existed; builds web/ itself)
//   env SAGEBOX_TEST_PERTURB=X   change one expected value (X = table, chart, findings,
//                                forecast, sp, budgets) to prove the comparison can fail
// Needs `npm ci` in web/ (playwright-core) and /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  artifactsDir, check, here, launchChromium, launchServer, MOCK, MOCK_SERVER, Mismatch, mockDist, repo, run,
  sageboxFromArgs, screenshots, serverCount, settled, step,
} from './harness.mjs';

const sagebox = sageboxFromArgs(import.meta.url);
const PERTURB = process.env.SAGEBOX_TEST_PERTURB || '';
const artifacts = artifactsDir();
const shot = screenshots({ fullPage: false });

// ---- exact decimals (independent of the dashboard's own code) ----------------------------
const SCALE = 10000000000n;
function dec(s) {
  const m = /^(-?)(\d+)(?:\.(\d{0,10}))?$/.exec(String(s));
  if (!m) throw new Mismatch(`not a decimal: ${JSON.stringify(s)}`);
  const v = BigInt(m[2]) * SCALE + BigInt(((m[3] || '') + '0000000000').slice(0, 10));
  return m[1] ? -v : v;
}
function decStr(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const f = (a % SCALE).toString().padStart(10, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + (a / SCALE).toString() + (f ? '.' + f : '');
}
const near = (a, b) => a !== null && b !== null && Math.abs(Number(a) - Number(b)) <= 0.005;
const perturb = (what, s) => (PERTURB === what ? decStr(dec(s) + 100000000n) : s); // +0.01

// ---- the store and the server --------------------------------------------------------------
const tmp = mkdtempSync(join(tmpdir(), 'sagebox-browser-'));
const demoDir = join(tmp, 'demo');
function cli(args) {
  return execFileSync(sagebox, ['--store', store, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
}
function cliJson(args) {
  return JSON.parse(cli([...args, '--format', 'json']));
}

console.log(`making a demo store in ${demoDir} …`);
execFileSync(sagebox, ['demo', '--dir', demoDir], { stdio: ['ignore', 'ignore', 'inherit'] });
const storesDir = join(demoDir, 'stores');
const store = existsSync(join(storesDir, 'legacy-csv-gz')) ? join(storesDir, 'legacy-csv-gz') : join(storesDir, readdirSync(storesDir)[0]);
const findingInputs = [];
for (const [flag, file] of [['--jobs', 'sagemaker-jobs.jsonl'], ['--metrics', 'cloudwatch-metrics.jsonl'], ['--logs', 'processing-logs.json']]) {
  if (existsSync(join(demoDir, file))) findingInputs.push(flag, join(demoDir, file));
}
const budgetsFile = join(here, 'budgets.json');

// `users`: [{name, password, role}] makes a server that needs sign-in: a data folder of its
// own where `sagebox users add` ran first (the mock takes them as --users).
async function startServer({ token, users } = {}) {
  const portFile = join(tmp, `port-${serverCount()}`);
  if (MOCK) {
    const args = [MOCK_SERVER, '--sagebox', sagebox, '--store', store, '--dist', mockDist(tmp),
      '--listen', '127.0.0.1:0', '--port-file', portFile, '--budgets-json', join(repo, 'web/dev/budgets-sample.json')];
    for (let i = 0; i < findingInputs.length; i += 2) args.push(findingInputs[i], findingInputs[i + 1]);
    if (token) args.push('--token', token);
    if (users) args.push('--users', users.map((u) => `${u.name}:${u.password}:${u.role}`).join(','));
    return launchServer('node', args, portFile);
  }
  if (users) {
    const data = join(tmp, `data-${serverCount()}`);
    mkdirSync(data, { recursive: true });
    for (const u of users) {
      execFileSync(sagebox, ['--data', data, 'users', 'add', u.name, '--role', u.role, '--password-stdin'], { input: `${u.password}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
    }
    // --store: the cost module reads the demo store, so the signed-in app has data to show
    return launchServer(sagebox, ['--data', data, '--store', store, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
  }
  const args = ['--store', store, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile, '--budgets', budgetsFile, ...findingInputs];
  if (token) {
    const cred = join(tmp, 'credentials');
    writeFileSync(cred, `[default]\naws_access_key_id = AKIDEXAMPLEBROWSER\naws_secret_access_key = browser-test-secret\nsagebox_dashboard_token = ${token}\n`);
    args.push('--credentials', cred);
  }
  return launchServer(sagebox, args, portFile);
}

// ---- page helpers ------------------------------------------------------------------------
// Marks the page stale, performs `action`, and waits until the page re-rendered.
async function act(page, what, action) {
  await page.evaluate(() => (document.body.dataset.state = 'stale'));
  await action();
  await settled(page, what);
}

// The CLI's answer to the question the page last asked /api/cost/query.
function cliQuery(q, { groupBy = q.group_by } = {}) {
  const args = ['cost', 'query', '--from', q.from, '--to', q.to, '--granularity', q.granularity, '--metrics', q.metric];
  for (const g of groupBy || []) args.push('--group-by', g);
  for (const f of q.filter || []) args.push('--filter', f);
  return cliJson(args);
}

// Compares the explorer's table and chart with `sagebox cost query` for the same question.
async function compareExplorer(page, expectParams) {
  const hook = await page.evaluate(() => window.__sagebox);
  check(hook && hook.query && hook.chart, 'window.__sagebox has no query/chart after render');
  const q = hook.query;
  for (const [k, v] of Object.entries(expectParams)) {
    check(JSON.stringify(q[k]) === JSON.stringify(v), `the page asked ${k}=${JSON.stringify(q[k])}, the test set ${JSON.stringify(v)}`);
  }
  const cliResp = cliQuery(q);
  const metric = q.metric;
  const grouped = (q.group_by || []).length > 0;
  const periods = cliResp.ResultsByTime.map((r) => r.TimePeriod.Start);
  // expected rows: key → amounts per period (exact strings), null where the group is absent
  const expected = new Map();
  cliResp.ResultsByTime.forEach((r, i) => {
    if (grouped) {
      for (const g of r.Groups) {
        const key = g.Keys.join('|');
        if (!expected.has(key)) expected.set(key, new Array(periods.length).fill(null));
        expected.get(key)[i] = g.Metrics[metric].Amount;
      }
    } else {
      if (!expected.has('')) expected.set('', new Array(periods.length).fill(null));
      expected.get('')[i] = r.Total[metric] ? r.Total[metric].Amount : null;
    }
  });
  const firstKey = expected.keys().next().value;
  if (firstKey !== undefined) {
    const row = expected.get(firstKey);
    const j = row.findIndex((a) => a !== null);
    if (j >= 0) row[j] = perturb('table', row[j]);
  }
  // one string across the bridge: tens of thousands of cells come over in well under a second
  const packed = await page.evaluate(() => {
    const out = [];
    for (const td of document.querySelectorAll('[data-testid=table] [data-testid=cell]')) {
      out.push([td.getAttribute('data-row'), td.getAttribute('data-col'), td.getAttribute('data-amount'), td.textContent].join('\u0001'));
    }
    return out.join('\u0002');
  });
  const cells = packed ? packed.split('\u0002').map((x) => {
    const [row, col, amount, text] = x.split('\u0001');
    return { row, col, amount, text };
  }) : [];
  const byPos = new Map(cells.map((c) => [`${c.row}\u0000${c.col}`, c]));
  const want = (row, col) => {
    const c = byPos.get(`${row}\u0000${col}`);
    check(c, `no table cell for group ${JSON.stringify(row)} period ${col}`);
    return c;
  };
  let compared = 0;
  const rowTotals = new Map();
  for (const [key, amounts] of expected) {
    let t = 0n;
    amounts.forEach((a, i) => {
      const c = want(key, periods[i]);
      check(c.amount === (a ?? ''), `table cell ${JSON.stringify(key)} @ ${periods[i]}: page ${JSON.stringify(c.amount)}, CLI ${JSON.stringify(a)}`);
      if (a !== null) {
        check(near(c.text.replace(/,/g, ''), a), `table cell ${key} @ ${periods[i]} shows ${c.text} for ${a}`);
        t += dec(a);
      }
      compared++;
    });
    rowTotals.set(key, t);
    check(dec(want(key, '__total__').amount) === t, `row total of ${JSON.stringify(key)}: page ${want(key, '__total__').amount}, CLI sum ${decStr(t)}`);
  }
  const dataRows = new Set(cells.map((c) => c.row).filter((r) => r !== '__total__'));
  check(dataRows.size === expected.size, `the table has ${dataRows.size} group rows, the CLI ${expected.size}`);
  if (grouped) {
    // the Total row must equal the CLI's ungrouped totals, exactly
    const totals = cliQuery(q, { groupBy: [] });
    let grand = 0n;
    totals.ResultsByTime.forEach((r) => {
      const a = r.Total[metric] ? r.Total[metric].Amount : '0';
      const c = want('__total__', r.TimePeriod.Start);
      check(dec(c.amount) === dec(a), `Total row @ ${r.TimePeriod.Start}: page ${c.amount}, CLI ungrouped ${a}`);
      grand += dec(a);
      compared++;
    });
    check(dec(want('__total__', '__total__').amount) === grand, `grand total: page ${want('__total__', '__total__').amount}, CLI ${decStr(grand)}`);
  }
  // chart: the top 10 groups by total, then "Others"
  const ranked = [...rowTotals.entries()].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  const ds = hook.chart.datasets;
  check(hook.chart.labels.length === periods.length, `chart has ${hook.chart.labels.length} labels, CLI ${periods.length} periods`);
  const topN = Math.min(10, ranked.length);
  check(ds.length === topN + (ranked.length > 10 ? 1 : 0), `chart has ${ds.length} datasets for ${ranked.length} groups`);
  const perturbChart = PERTURB === 'chart';
  for (let i = 0; i < topN; i++) {
    // ties in the ranking may come in either order: match by total, then by values
    const candidates = ranked.filter(([, t]) => t === ranked[i][1]).map(([k]) => k);
    const ok = candidates.some((k) => expected.get(k).every((a, p) => near(ds[i].data[p], (a === null ? 0 : Number(a)) + (perturbChart && i === 0 && p === 0 ? 0.01 : 0))));
    check(ok, `chart dataset ${i} (${ds[i].label}) ≠ CLI group ${JSON.stringify(ranked[i][0])}: ${JSON.stringify(ds[i].data.slice(0, 5))}… vs ${JSON.stringify(expected.get(ranked[i][0]).slice(0, 5))}…`);
    if (grouped && ranked[i][0] !== '' && candidates.length === 1) {
      const lastKey = ranked[i][0].split('|').pop();
      const bare = lastKey.includes('$') ? lastKey.slice(lastKey.indexOf('$') + 1) : lastKey;
      check(!bare || ds[i].label.includes(bare), `chart dataset ${i} is labelled ${ds[i].label}, expected it to name ${bare}`);
    }
  }
  if (ranked.length > 10) {
    const others = ds[ds.length - 1];
    check(/^Others/.test(others.label), `last dataset is ${others.label}, expected Others`);
    periods.forEach((_, p) => {
      let s = 0n;
      for (const [k] of ranked.slice(10)) if (expected.get(k)[p] !== null) s += dec(expected.get(k)[p]);
      check(near(others.data[p], decStr(s)), `Others @ ${periods[p]}: chart ${others.data[p]}, CLI ${decStr(s)}`);
    });
  }
  return { compared, groups: expected.size, periods: periods.length };
}

// ---- the test ------------------------------------------------------------------------------
await run(tmp, async () => {
  const base = await startServer();
  console.log(`server at ${base} (${MOCK ? 'mock' : 'sagebox serve'}), store ${store}`);
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(`console: ${m.text()}`));
  const external = [];
  page.on('request', (r) => !r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:') && external.push(r.url()));
  // the UI uses only the module paths (/api/cost/…) and the platform's whoami/login/logout
  const oldPaths = [];
  const watchApiPaths = (pg) => pg.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/api/') && !/^\/api\/(cost\/|whoami$|login$|logout$)/.test(path)) oldPaths.push(path);
  });
  watchApiPaths(page);
  const meta = await (await fetch(`${base}/api/cost/meta`)).json();

  await step('explorer: default view equals the CLI', async () => {
    await page.goto(`${base}/`);
    await settled(page, 'first load');
    check((await page.inputValue('[data-testid=from]')) === meta.data_range.first, 'from input does not default to data_range.first');
    const r = await compareExplorer(page, { group_by: [] });
    await shot(page, '01-explorer-default');
    console.log(`     ${r.compared} cells`);
  });

  await step('top bar: module tabs with Cost active, its views under it, open server needs no sign-in', async () => {
    const tabs = await page.$$eval('[data-testid=module-tabs] a', (as) => as.map((a) => ({ id: a.dataset.module, text: a.textContent, active: a.classList.contains('active'), current: a.getAttribute('aria-current') })));
    check(tabs.length >= 1 && tabs[0].id === 'cost' && tabs[0].text === 'Cost', `module tabs: ${JSON.stringify(tabs)}`);
    check(tabs.filter((t) => t.active).length === 1 && tabs[0].active && tabs[0].current === 'page', `Cost is not the one active tab: ${JSON.stringify(tabs)}`);
    check(await page.locator('[data-testid=module-tabs]').isVisible(), 'module tab bar not visible');
    const views = await page.$$eval('[data-testid=nav] a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent, a.classList.contains('active')]));
    const want = [['explorer', 'Explorer'], ['reports', 'Saved reports'], ['findings', 'Findings'], ['forecast', 'Forecast'], ['savings-plans', 'Savings Plans'], ['budgets', 'Budgets']];
    check(JSON.stringify(views.map((v) => [v[0], v[1]])) === JSON.stringify(want.map(([id, l]) => [`#/cost/${id}`, l])), `Cost views: ${JSON.stringify(views)}`);
    check(views[0][2] && views.filter((v) => v[2]).length === 1, 'Explorer is not the one active view');
    check(!(await page.locator('[data-testid=sign-out]').isVisible()), 'Sign out shown on an open server');
    check(!(await page.locator('[data-testid=login-form]').count()), 'login form shown on an open server');
  });

  await step('explorer: group by REGION equals the CLI', async () => {
    await act(page, 'group by REGION', () => page.selectOption('[data-testid=group-by]', 'REGION'));
    const r = await compareExplorer(page, { group_by: ['REGION'] });
    await shot(page, '02-explorer-region');
    console.log(`     ${r.groups} groups × ${r.periods} periods`);
  });

  await step('explorer: LINKED_ACCOUNT, DAILY, 2024-02-10..2024-03-20 equals the CLI', async () => {
    await act(page, 'group by LINKED_ACCOUNT', () => page.selectOption('[data-testid=group-by]', 'LINKED_ACCOUNT'));
    await act(page, 'granularity DAILY', () => page.selectOption('[data-testid=granularity]', 'DAILY'));
    const from = meta.data_range.first.slice(0, 8) === '2024-01-' ? '2024-02-10' : meta.data_range.first;
    const to = meta.data_range.first.slice(0, 8) === '2024-01-' ? '2024-03-20' : meta.data_range.last;
    await act(page, 'from date', () => page.fill('[data-testid=from]', from));
    await act(page, 'to date', () => page.fill('[data-testid=to]', to));
    const r = await compareExplorer(page, { group_by: ['LINKED_ACCOUNT'], granularity: 'DAILY', from, to });
    await shot(page, '03-explorer-account-daily');
    console.log(`     ${r.groups} groups × ${r.periods} periods`);
  });

  await step('explorer: RESOURCE_ID (more than 10 groups → Others), stacked, filter, preset', async () => {
    await act(page, 'preset 3 months', () => page.click('[data-testid=preset-3m]'));
    await act(page, 'group by RESOURCE_ID', () => page.selectOption('[data-testid=group-by]', 'RESOURCE_ID'));
    await act(page, 'chart stacked', () => page.selectOption('[data-testid=chart-type]', 'stacked'));
    await page.selectOption('[data-testid=filter-dimension]', 'USAGE_TYPE');
    await page.selectOption('[data-testid=filter-op]', '~');
    await page.fill('[data-testid=filter-value]', 'Notebk');
    await act(page, 'add filter', () => page.click('[data-testid=filter-add]'));
    check((await page.locator('[data-testid=filter-chip]').count()) === 1, 'no filter chip after adding a filter');
    const r = await compareExplorer(page, { group_by: ['RESOURCE_ID'], filter: ['USAGE_TYPE~Notebk'] });
    check(r.groups > 10, `expected more than 10 RESOURCE_ID groups (for "Others"), got ${r.groups}`);
    await shot(page, '04-explorer-resource-stacked-filter');
    console.log(`     ${r.groups} groups × ${r.periods} periods`);
    const href = await page.getAttribute('[data-testid=csv-link]', 'href');
    const csv = await (await fetch(new URL(href, base))).text();
    const hook = await page.evaluate(() => window.__sagebox.query);
    const args = ['cost', 'query', '--from', hook.from, '--to', hook.to, '--granularity', hook.granularity, '--metrics', hook.metric, '--group-by', 'RESOURCE_ID', '--filter', 'USAGE_TYPE~Notebk', '--format', 'csv'];
    check(csv === cli(args), 'Download CSV link does not give the CLI csv for the same question');
    await act(page, 'remove filter', () => page.click('[data-testid=filter-remove]'));
    check((await page.locator('[data-testid=filter-chip]').count()) === 0, 'filter chip still there after removing it');
    await compareExplorer(page, { filter: [] });
  });

  await step('explorer: the URL hash restores the view', async () => {
    const url = page.url();
    const page2 = await context.newPage();
    await page2.goto(url);
    await settled(page2, 'shared URL');
    check((await page2.inputValue('[data-testid=group-by]')) === 'RESOURCE_ID', 'group-by not restored from the URL');
    await compareExplorer(page2, { group_by: ['RESOURCE_ID'] });
    await page2.close();
  });

  await step('saved reports: save, list, open, delete', async () => {
    await act(page, 'group by REGION', () => page.selectOption('[data-testid=group-by]', 'REGION'));
    await page.fill('[data-testid=report-name]', 'by region (test)');
    await page.click('[data-testid=report-save]');
    await page.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid=report-save-status]').textContent), null, { timeout: 10000 });
    await act(page, 'reports view', () => page.click('[data-testid=nav-reports]'));
    const names = await page.$$eval('[data-testid=report]', (rs) => rs.map((r) => r.dataset.name));
    check(names.includes('by region (test)'), `saved report not listed: ${JSON.stringify(names)}`);
    await shot(page, '05-reports');
    const apiReports = await (await fetch(`${base}/api/cost/reports`)).json();
    const saved = apiReports.reports.find((x) => x.name === 'by region (test)');
    check(saved && JSON.stringify(saved.query.group_by) === '["REGION"]', `API has the report as ${JSON.stringify(saved)}`);
    await act(page, 'open report', () => page.click('[data-testid=report][data-name="by region (test)"] [data-testid=report-open]'));
    check((await page.inputValue('[data-testid=group-by]')) === 'REGION', 'opening the report did not restore group-by');
    await compareExplorer(page, { group_by: ['REGION'] });
    await act(page, 'reports view', () => page.click('[data-testid=nav-reports]'));
    await act(page, 'delete report', () => page.click('[data-testid=report][data-name="by region (test)"] [data-testid=report-delete]'));
    check((await page.locator('[data-testid=report][data-name="by region (test)"]').count()) === 0, 'report still listed after delete');
  });

  await step('findings: list and total equal the CLI', async () => {
    await act(page, 'findings view', () => page.click('[data-testid=nav-findings]'));
    const want = cliJson(['cost', 'findings', ...findingInputs]);
    const got = await page.$$eval('[data-testid=finding]', (fs) => fs.map((f) => ({ id: f.dataset.id, kind: f.querySelector('[data-testid=finding-kind]').textContent, savings: f.querySelector('[data-testid=finding-savings]').dataset.amount })));
    check(want.findings.length > 0, 'the demo store has no findings');
    check(got.length === want.findings.length, `page lists ${got.length} findings, CLI ${want.findings.length}`);
    let total = 0n;
    want.findings.forEach((f, i) => {
      const w = i === 0 ? perturb('findings', f.monthly_savings_usd) : f.monthly_savings_usd;
      check(got[i].kind === f.kind && got[i].savings === w && got[i].id === f.id, `finding ${i + 1}: page ${JSON.stringify(got[i])}, CLI ${f.kind} ${w} ${f.id}`);
      total += dec(f.monthly_savings_usd);
    });
    const shown = await page.getAttribute('[data-testid=findings-total] [data-amount]', 'data-amount');
    check(dec(shown) === total, `total savings: page ${shown}, CLI sum ${decStr(total)}`);
    await shot(page, '06-findings');
    await page.click('[data-testid=finding] >> nth=0 >> summary');
    const rec = await page.locator('[data-testid=finding] >> nth=0 >> [data-testid=finding-recommendation]').textContent();
    check(rec === want.findings[0].recommendation, 'expanded finding does not show its recommendation');
    check(await page.locator('[data-testid=finding] >> nth=0 >> dl.kv').first().isVisible(), 'evidence not visible after expanding');
    await shot(page, '07-findings-expanded');
  });

  await step('forecast: mean, interval and actual history equal the CLI', async () => {
    await act(page, 'forecast view', () => page.click('[data-testid=nav-forecast]'));
    const want = cliJson(['cost', 'forecast']);
    const hook = await page.evaluate(() => window.__sagebox.chart);
    const byLabel = (re) => hook.datasets.find((d) => re.test(d.label));
    const mean = byLabel(/^Forecast/).data.filter((v) => v !== null);
    const lower = byLabel(/^Lower/).data.filter((v) => v !== null);
    const upper = byLabel(/^Upper/).data.filter((v) => v !== null);
    check(mean.length === want.ForecastResultsByTime.length, `chart has ${mean.length} forecast points, CLI ${want.ForecastResultsByTime.length}`);
    want.ForecastResultsByTime.forEach((r, i) => {
      const m = i === 0 ? perturb('forecast', r.MeanValue) : r.MeanValue;
      check(near(mean[i], m), `forecast mean ${r.TimePeriod.Start}: chart ${mean[i]}, CLI ${m}`);
      check(near(lower[i], r.PredictionIntervalLowerBound) && near(upper[i], r.PredictionIntervalUpperBound), `interval ${r.TimePeriod.Start} differs`);
    });
    const model = await page.locator('[data-testid=forecast-model] .figure-value').textContent();
    check(model === want.Sagebox.Model, `model: page ${model}, CLI ${want.Sagebox.Model}`);
    const total = await page.getAttribute('[data-testid=forecast-total] [data-amount]', 'data-amount');
    check(total === want.Total.Amount, `forecast total: page ${total}, CLI ${want.Total.Amount}`);
    const mase = await page.locator('[data-testid=forecast-mase] .figure-value').textContent();
    check(mase === String(want.Sagebox.MASE), `MASE: page ${mase}, CLI ${want.Sagebox.MASE}`);
    // actual history = the training window without the excluded line item types
    const tp = want.Sagebox.TrainingPeriod;
    const byType = cliJson(['cost', 'query', '--from', tp.Start, '--to', tp.End, '--granularity', 'DAILY', '--group-by', 'LINE_ITEM_TYPE']);
    const excluded = new Set(want.Sagebox.ExcludedLineItemTypes);
    const actual = byLabel(/^Actual/).data.filter((v) => v !== null);
    check(actual.length === byType.ResultsByTime.length, `chart has ${actual.length} actual days, CLI ${byType.ResultsByTime.length}`);
    byType.ResultsByTime.forEach((r, i) => {
      let s = 0n;
      for (const g of r.Groups) if (!excluded.has(g.Keys[0])) s += dec(g.Metrics.UnblendedCost.Amount);
      check(near(actual[i], decStr(s)), `actual ${r.TimePeriod.Start}: chart ${actual[i]}, CLI ${decStr(s)}`);
    });
    await shot(page, '08-forecast');
  });

  await step('savings plans: curve and recommended point equal the CLI', async () => {
    await act(page, 'savings plans view', () => page.click('[data-testid=nav-savings-plans]'));
    const want = cliJson(['cost', 'savings-plans', 'recommend']);
    const sum = want.SavingsPlansPurchaseRecommendation.SavingsPlansPurchaseRecommendationSummary;
    const hook = await page.evaluate(() => window.__sagebox.chart);
    const curve = want.Sagebox.SavingsVsCommitmentCurve;
    check(curve.length > 0, 'CLI curve is empty');
    check(JSON.stringify(hook.labels) === JSON.stringify(curve.map((p) => p.HourlyCommitment)), 'curve commitments differ');
    curve.forEach((p, i) => {
      const w = i === curve.length - 1 ? perturb('sp', p.EstimatedSavingsAmount) : p.EstimatedSavingsAmount;
      check(near(hook.datasets[0].data[i], w), `curve @ ${p.HourlyCommitment}: chart ${hook.datasets[0].data[i]}, CLI ${w}`);
    });
    check(near(hook.datasets[1].data[0], sum.EstimatedSavingsAmount), `recommended point y: ${hook.datasets[1].data[0]} vs ${sum.EstimatedSavingsAmount}`);
    const c = await page.getAttribute('[data-testid=sp-commitment] [data-amount]', 'data-amount');
    check(c === sum.HourlyCommitmentToPurchase, `commitment: page ${c}, CLI ${sum.HourlyCommitmentToPurchase}`);
    const m = await page.getAttribute('[data-testid=sp-monthly-savings] [data-amount]', 'data-amount');
    check(m === sum.EstimatedMonthlySavingsAmount, `monthly savings: page ${m}, CLI ${sum.EstimatedMonthlySavingsAmount}`);
    await shot(page, '09-savings-plans');
  });

  await step('budgets: each budget shows the API figures and alerts', async () => {
    await act(page, 'budgets view', () => page.click('[data-testid=nav-budgets]'));
    const want = await (await fetch(`${base}/api/cost/budgets`)).json();
    check(want.configured === true, 'serve was given --budgets but /api/cost/budgets says configured=false');
    const got = await page.$$eval('[data-testid=budget]', (bs) => bs.map((b) => ({
      name: b.dataset.name,
      actual: b.querySelector('[data-testid=budget-actual]').dataset.amount,
      limit: b.querySelector('[data-testid=budget-limit]').dataset.amount,
      forecast: b.querySelector('[data-testid=budget-forecast]').dataset.amount,
      alerts: b.querySelectorAll('[data-testid=budget-alert]').length,
    })));
    check(got.length === want.budgets.length && got.length > 0, `page shows ${got.length} budgets, API ${want.budgets.length}`);
    want.budgets.forEach((b, i) => {
      const a = i === 0 && b.actual != null ? perturb('budgets', String(b.actual)) : b.actual;
      check(got[i].name === b.name, `budget ${i}: ${got[i].name} vs ${b.name}`);
      check(got[i].actual === String(a ?? ''), `budget ${b.name} actual: page ${got[i].actual}, API ${a}`);
      check(got[i].limit === String(b.limit ?? ''), `budget ${b.name} limit: page ${got[i].limit}, API ${b.limit}`);
      check(got[i].forecast === String(b.forecast ?? ''), `budget ${b.name} forecast: page ${got[i].forecast}, API ${b.forecast}`);
      check(got[i].alerts === (b.alerts || []).length, `budget ${b.name}: ${got[i].alerts} alerts shown, API ${(b.alerts || []).length}`);
    });
    check(want.budgets.some((b) => (b.alerts || []).length > 0), 'the test budgets file should fire at least one alert');
    await shot(page, '10-budgets');
  });

  await step('old #/explorer links redirect to #/cost/explorer', async () => {
    const p = await context.newPage();
    watchApiPaths(p);
    await p.goto(`${base}/#/explorer?granularity=MONTHLY&group_by=REGION`);
    await settled(p, 'old explorer hash');
    const hash = new URL(p.url()).hash;
    check(hash === '#/cost/explorer?granularity=MONTHLY&group_by=REGION', `#/explorer?… became ${hash}`);
    check((await p.inputValue('[data-testid=group-by]')) === 'REGION', 'the redirected hash lost group_by');
    await compareExplorer(p, { group_by: ['REGION'] });
    await act(p, 'old findings hash', () => p.goto(`${base}/#/findings`));
    check(new URL(p.url()).hash === '#/cost/findings', `#/findings became ${new URL(p.url()).hash}`);
    check(await p.locator('[data-testid=view-findings]').isVisible(), 'findings view not shown after the redirect');
    check(await p.locator('[data-testid=nav-findings].active').count() === 1, 'Findings not marked active after the redirect');
    await p.close();
  });

  await step('no external requests, no old API paths, no page errors', async () => {
    check(external.length === 0, `the page loaded from other hosts: ${external.join(', ')}`);
    check(oldPaths.length === 0, `the page called API paths outside /api/cost/: ${[...new Set(oldPaths)].join(', ')}`);
    check(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
  });

  await step('token: without it the sign-in page says how; a wrong one is a 401 error; ?token=T works', async () => {
    const token = 'browser-test-token-1234';
    const authBase = await startServer({ token });
    const p = await context.newPage();
    await p.goto(`${authBase}/#/cost/explorer`);
    await p.waitForFunction(() => document.body.dataset.state === 'login', null, { timeout: 30000 });
    check(await p.locator('[data-testid=login-form]').isVisible(), 'no sign-in form without a token');
    check(/\?token=/.test(await p.locator('[data-testid=login-form]').textContent()), 'the sign-in page does not mention the ?token= URL');
    await p.goto(`${authBase}/?token=wrong-token-5678#/cost/explorer`);
    await p.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 30000 });
    const msg = await p.locator('[data-testid=error]').textContent();
    check(/token/i.test(msg) && (await p.getAttribute('[data-testid=error]', 'data-status')) === '401', `401 message unclear: ${msg}`);
    check(await p.locator('[data-testid=login-form]').isVisible(), 'no sign-in form under the refused-token message');
    await p.screenshot({ path: join(artifacts, '11-unauthorized.png') });
    await p.goto(`${authBase}/?token=${token}#/cost/explorer`);
    await settled(p, 'with token');
    check(!p.url().includes('token='), 'token left in the address bar');
    check(await p.locator('[data-testid=tab-cost].active').isVisible(), 'no Cost tab after signing in with a token');
    await compareExplorer(p, { group_by: [] });
    await act(p, 'findings with token', () => p.click('[data-testid=nav-findings]'));
    await p.close();
  });

  await step('sign-in: login form, wrong password, signed in as alice, HttpOnly cookie, CSRF, sign out', async () => {
    const alice = { name: 'alice', password: 'secret-pw', role: 'admin' };
    const loginBase = await startServer({ users: [alice] });
    // a context of its own: cookies are per host, not per port, so keep them apart
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const p = await ctx.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    watchApiPaths(p);
    const onLogin = () => p.waitForFunction(() => document.body.dataset.state === 'login', null, { timeout: 30000 });
    await p.goto(`${loginBase}/#/cost/explorer`);
    await onLogin();
    check(await p.locator('[data-testid=login-form]').isVisible(), 'no sign-in form on a server with users');
    check(!(await p.locator('[data-testid=module-tabs]').isVisible()), 'module tabs shown before signing in');
    // accessible: the inputs have labels
    check((await p.getByLabel('Name', { exact: true }).count()) === 1 && (await p.getByLabel('Password', { exact: true }).count()) === 1, 'Name/Password inputs are not labelled');
    await p.screenshot({ path: join(artifacts, '14-login.png') });

    // wrong password: the server's message, still the form
    const refused = await fetch(`${loginBase}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: alice.name, password: 'not-the-password' }) });
    check(refused.status === 401, `POST /api/login with a wrong password answered ${refused.status}`);
    const refusedMsg = (await refused.json()).error.message;
    await p.getByLabel('Name', { exact: true }).fill(alice.name);
    await p.getByLabel('Password', { exact: true }).fill('not-the-password');
    await p.getByLabel('Password', { exact: true }).press('Enter');
    await p.locator('[data-testid=login-error]').waitFor({ state: 'visible', timeout: 30000 });
    await onLogin();
    const shown = await p.locator('[data-testid=login-error]').textContent();
    check(shown.includes(refusedMsg), `wrong password shows ${JSON.stringify(shown)}, the server said ${JSON.stringify(refusedMsg)}`);
    await p.screenshot({ path: join(artifacts, '15-login-wrong-password.png') });

    // right password (Enter submits): the app, with alice and her role in the top bar
    await p.getByLabel('Password', { exact: true }).fill(alice.password);
    await act(p, 'sign in', () => p.getByLabel('Password', { exact: true }).press('Enter'));
    check(new URL(p.url()).hash === '#/cost/explorer', `after signing in the hash is ${new URL(p.url()).hash}`);
    check((await p.textContent('[data-testid=user-name]')) === 'alice', `top bar user: ${await p.textContent('[data-testid=user-name]')}`);
    check((await p.textContent('[data-testid=user-role]')) === 'admin', `top bar role: ${await p.textContent('[data-testid=user-role]')}`);
    check(await p.locator('[data-testid=sign-out]').isVisible(), 'no Sign out button when signed in');
    check(await p.locator('[data-testid=tab-cost].active').isVisible(), 'no active Cost tab after signing in');
    await compareExplorer(p, { group_by: [] });
    await p.screenshot({ path: join(artifacts, '16-signed-in.png') });

    // the session cookie is HttpOnly and SameSite=Strict
    const cookies = await ctx.cookies(loginBase);
    const session = cookies.find((c) => c.name === 'sagebox_session');
    check(session && session.httpOnly && session.sameSite === 'Strict', `session cookie: ${JSON.stringify(session)}`);
    const visible = await p.evaluate(() => document.cookie);
    check(!visible.includes('sagebox_session'), `document.cookie shows the session: ${visible}`);

    // CSRF: a POST from the page without the header is refused; the UI's own writes carry it
    const noCsrf = await p.evaluate(async () => (await fetch('/api/logout', { method: 'POST' })).status);
    check(noCsrf === 403, `POST /api/logout without X-CSRF-Token answered ${noCsrf}, expected 403`);
    const put = await p.evaluate(async () => (await fetch('/api/cost/reports/csrf-test', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{"query":{}}' })).status);
    check(put === 403, `PUT /api/cost/reports without X-CSRF-Token answered ${put}, expected 403`);
    await p.fill('[data-testid=report-name]', 'signed-in save (test)');
    await p.click('[data-testid=report-save]');
    await p.waitForFunction(() => /Saved|Not saved/.test(document.querySelector('[data-testid=report-save-status]').textContent), null, { timeout: 10000 });
    const saved = await p.textContent('[data-testid=report-save-status]');
    check(/^Saved/.test(saved), `saving a report signed in by session: ${saved}`);
    await act(p, 'reports view', () => p.click('[data-testid=nav-reports]'));
    await act(p, 'delete report', () => p.click('[data-testid=report][data-name="signed-in save (test)"] [data-testid=report-delete]'));
    check((await p.locator('[data-testid=report][data-name="signed-in save (test)"]').count()) === 0, 'report still listed after delete (DELETE with the CSRF header)');

    // sign out: back to the form; the session is gone on the server too
    await p.click('[data-testid=sign-out]');
    await onLogin();
    check(await p.locator('[data-testid=login-form]').isVisible(), 'no sign-in form after signing out');
    check(!(await p.locator('[data-testid=user]').isVisible()), 'user still shown after signing out');
    const after = await p.evaluate(async () => (await fetch('/api/whoami')).status);
    check(after === 401, `GET /api/whoami after signing out answered ${after}`);
    await p.reload();
    await onLogin();
    check(errors.length === 0, `page errors: ${errors.join(' | ')}`);
    await ctx.close();
  });

  await step('explorer: a year of daily data × 300 groups renders fast', async () => {
    // Speed only: /api/cost/query is answered with a generated year (the demo store has 91 days).
    const p = await context.newPage();
    const days = [];
    for (let d = Date.UTC(2023, 0, 1); d < Date.UTC(2024, 0, 1); d += 86400000) days.push(new Date(d).toISOString().slice(0, 10));
    const resp = {
      GroupDefinitions: [{ Type: 'DIMENSION', Key: 'RESOURCE_ID' }],
      ResultsByTime: days.map((day, i) => ({
        TimePeriod: { Start: day, End: days[i + 1] || '2024-01-01' },
        Total: {},
        Groups: Array.from({ length: 300 }, (_, g) => ({ Keys: [`arn:aws:sagemaker:us-east-1:111111111111:notebook-instance/nb-${g}`], Metrics: { UnblendedCost: { Amount: ((g * 7 + i) % 97 + 0.123456789).toFixed(10), Unit: 'USD' } } })),
      })),
    };
    const body = JSON.stringify(resp);
    await p.route('**/api/cost/query?**', (r) => r.fulfill({ status: 200, contentType: 'application/json', body }));
    await p.goto(`${base}/#/cost/explorer?from=2023-01-01&to=2024-01-01&granularity=DAILY&group_by=RESOURCE_ID&chart=stacked`);
    const t0 = Date.now();
    await settled(p, 'year of daily data');
    const ms = Date.now() - t0;
    const hook = await p.evaluate(() => window.__sagebox);
    const cells = await p.locator('[data-testid=table] [data-testid=cell]').count();
    check(hook.chart.datasets.length === 11 && hook.chart.labels.length === 365, `chart has ${hook.chart.datasets.length} datasets × ${hook.chart.labels.length} labels`);
    check(cells === 301 * 366, `table has ${cells} cells, expected ${301 * 366}`);
    // Time is reported, not asserted: speed is for benchmarks, not tests.
    console.log(`     ${cells} cells, ready in ${ms} ms (page render ${Math.round(hook.renderMs)} ms)`);
    await p.screenshot({ path: join(artifacts, '13-explorer-year-daily.png') });
    await p.close();
  });

  await step('explorer: a year × 600 groups shows the top groups, "Show all" shows every one', async () => {
    // Over 150,000 cells the table stops at the top groups by spend (the Total row still
    // counts all); the button draws the rest. /api/cost/query is answered with a generated year.
    const p = await context.newPage();
    const days = [];
    for (let d = Date.UTC(2023, 0, 1); d < Date.UTC(2024, 0, 1); d += 86400000) days.push(new Date(d).toISOString().slice(0, 10));
    const groups = 600;
    const resp = {
      GroupDefinitions: [{ Type: 'DIMENSION', Key: 'RESOURCE_ID' }],
      ResultsByTime: days.map((day, i) => ({
        TimePeriod: { Start: day, End: days[i + 1] || '2024-01-01' },
        Total: {},
        Groups: Array.from({ length: groups }, (_, g) => ({ Keys: [`nb-${g}`], Metrics: { UnblendedCost: { Amount: String(groups - g), Unit: 'USD' } } })),
      })),
    };
    const body = JSON.stringify(resp);
    await p.route('**/api/cost/query?**', (r) => r.fulfill({ status: 200, contentType: 'application/json', body }));
    await p.goto(`${base}/#/cost/explorer?from=2023-01-01&to=2024-01-01&granularity=DAILY&group_by=RESOURCE_ID`);
    await settled(p, 'year × 600 groups');
    const perRow = days.length + 1;
    const capped = Math.floor(150000 / perRow);
    const rows = await p.locator('[data-testid=table] tbody [data-testid=row]').count();
    check(rows === capped, `capped table has ${rows} rows, expected ${capped}`);
    const note = await p.textContent('[data-testid=rows-capped]');
    check(note.includes(`top ${capped} of ${groups} groups`), `cap note says: ${note}`);
    // The shown rows are the top groups by spend, in order; the Total row counts every group.
    check((await p.getAttribute('[data-testid=table] tbody [data-testid=row] >> nth=0', 'data-row')).endsWith('nb-0'), 'first row is not the top group');
    let sum = 0;
    for (let g = 0; g < groups; g++) sum += groups - g;
    const total = await p.getAttribute('[data-row=__total__][data-col=__total__]', 'data-amount');
    check(Number(total) === sum * days.length, `Total ${total}, expected ${sum * days.length}`);
    await act(p, 'show all rows', () => p.click('[data-testid=show-all-rows]'));
    const all = await p.locator('[data-testid=table] tbody [data-testid=row]').count();
    check(all === groups, `after Show all the table has ${all} rows, expected ${groups}`);
    check((await p.locator('[data-testid=rows-capped]').count()) === 0, 'cap note still shown after Show all');
    await p.close();
  });

  await step('empty budgets state', async () => {
    // the page with budgets not configured: stub only the one API answer
    const p = await context.newPage();
    await p.route('**/api/cost/budgets', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{"configured": false}' }));
    await p.goto(`${base}/#/cost/budgets`);
    await settled(p, 'empty budgets');
    check(await p.locator('[data-testid=budgets-empty]').isVisible(), 'no empty state for budgets');
    await p.screenshot({ path: join(artifacts, '12-budgets-empty.png') });
    await p.close();
  });
});
