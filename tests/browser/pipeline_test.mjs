// Browser test of the Pipeline tab (`#/pipeline/executions`): issue 16's web UI in headless
// Debian Chromium at 1366×768 over `sagebox serve`. The CLI makes what the tab shows: a tiny
// pipeline of /bin/sh one-liners (a features job writing a train.csv per stage, two stages, a
// `lin` and a two-point `tree` grid, a `broken` candidate in stage beta that exits 1 and is
// caught) run with `sagebox pipeline run`, and a second pipeline whose features job fails.
// The page is then compared with the CLI's JSON (`pipeline status|runs|models --json`, the
// compiled definition), never with numbers written here:
//   1. a server on an empty data folder: the tab says how to run a pipeline;
//   2. the executions list: both executions with the CLI's statuses, newest first;
//   3. the succeeded execution: a box per top-level state, each state's runs and exits as the
//      CLI counts them, the Map progress, the caught candidate; the runs table (metrics,
//      exact costs, their exact total, sorting by the metric, the stage filter); the best
//      model per stage;
//   4. the failed execution: its error and cause, Features caught, Pipeline Failed failed,
//      Stages not run; a third execution watched while it runs, refreshed until SUCCEEDED;
//   5. a server with users (the Step Functions API then wants SigV4): the tab says so.
//
// Usage: node tests/browser/pipeline_test.mjs path/to/sagebox
//   env SAGEBOX_ARTIFACTS=DIR    screenshots go there (default tests/browser/artifacts/)
//   env SAGEBOX_TEST_DIST=DIR    the browser gets index.html, app.js and app.css from DIR (a
//                                `node web/build.mjs DIR`) instead of the server
// Needs `npm ci` in web/ (playwright-core) and /usr/bin/chromium.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sumDec } from '../../web/src/decimal.js';
import {
  check, launchChromium, launchServer, noteRejectionsAfterFailedSteps, run, sageboxFromArgs,
  screenshots, serveDist, serverCount, settled, signIn, step,
} from './harness.mjs';

const sagebox = sageboxFromArgs(import.meta.url);
const DIST = process.env.SAGEBOX_TEST_DIST ? resolve(process.env.SAGEBOX_TEST_DIST) : null;
const shot = screenshots({ fullPage: true });
const tmp = mkdtempSync(join(tmpdir(), 'sagebox-pipeline-browser-'));
const data = join(tmp, 'data');
noteRejectionsAfterFailedSteps();

const cli = (...argv) => execFileSync(sagebox, ['--data', data, ...argv], { cwd: tmp, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
const cliJson = (...argv) => JSON.parse(cli(...argv));

// The pipeline: jobs are /bin/sh one-liners. ContainerArguments `--stage S --candidate ID`
// follow the script, so in `sh -c SCRIPT` $0 is --stage and $1 the stage.
const FEATURES = 'for s in alpha beta; do mkdir -p "$SAGEBOX_ML_ROOT/processing/output/features/$s" && echo x,y > "$SAGEBOX_ML_ROOT/processing/output/features/$s/train.csv"; done';
const config = (name, features) => `pipeline: ${name}
data:
  root: s3://sagebox-browser/${name}
defaults:
  instance_type: ml.m5.xlarge
  max_runtime_seconds: 60
  retry: {max_attempts: 0, interval_seconds: 1, backoff_rate: 1.0}
features:
  command: [/bin/sh, -c, '${features}']
stages:
  - name: alpha
    algorithms: [lin, tree]
  - name: beta
    algorithms: [lin, tree, broken]
algorithms:
  - name: lin
    command: [/bin/sh, -c, 'if [ "$1" = alpha ]; then echo cv_accuracy=0.81; else echo cv_accuracy=0.93; fi']
  - name: tree
    command: [/bin/sh, -c, 'if [ "$1" = alpha ]; then echo cv_accuracy=0.87; else echo cv_accuracy=0.84; fi']
    grid: {depth: [2, 3]}
  - name: broken
    command: [/bin/sh, -c, 'echo cv_accuracy=0.99; echo broken on purpose >&2; exit 1']
metric: {name: cv_accuracy, regex: 'cv_accuracy=([0-9.]+)', direction: maximize}
`;

// ---- page helpers ---------------------------------------------------------------------------------
let base = null;
async function open(page, hash, what) {
  await page.goto('about:blank');
  await page.goto(`${base}/${hash}`);
  await settled(page, what);
}
const execUrl = (arn) => `#/pipeline/executions?${new URLSearchParams({ execution: arn })}`;
const hook = (page) => page.evaluate(() => window.__sagebox && window.__sagebox.pipeline);
// The boxes of the drawing: [{name, type, status, depth, counts, progress}] in page order.
const boxes = (page) => page.$$eval('[data-testid=state]', (els) => els.map((e) => ({
  name: e.dataset.state,
  type: e.dataset.type,
  status: e.dataset.status,
  depth: Number(e.dataset.depth),
  counts: e.querySelector(':scope > .sfn-head [data-testid=state-counts]').textContent,
  progress: (() => {
    const p = e.querySelector(':scope > [data-testid=map-progress]');
    return p ? { length: Number(p.dataset.length), succeeded: Number(p.dataset.succeeded), failed: Number(p.dataset.failed), text: p.textContent } : null;
  })(),
})));
const runRows = (page) => page.$$eval('[data-testid=run-row]', (trs) => trs.map((tr) => ({
  name: tr.dataset.run,
  stage: tr.dataset.stage,
  algorithm: tr.querySelector('[data-col=algorithm]').textContent,
  status: tr.querySelector('[data-col=status]').textContent,
  metric: tr.querySelector('[data-col="metric:cv_accuracy"]').dataset.value,
  cost: tr.querySelector('[data-col=cost]').dataset.amount,
})));

await run(tmp, async () => {
  mkdirSync(data, { recursive: true });
  writeFileSync(join(tmp, 'tiny.yaml'), config('tiny', FEATURES));
  writeFileSync(join(tmp, 'tinyfail.yaml'), config('tinyfail', `${FEATURES}; echo no features >&2; exit 1`));
  cli('pipeline', 'validate', 'tiny.yaml');
  cli('pipeline', 'validate', 'tinyfail.yaml');
  cli('pipeline', 'compile', 'tiny.yaml', '-o', join(tmp, 'tiny.asl.json'));
  const definition = JSON.parse(readFileSync(join(tmp, 'tiny.asl.json'), 'utf8'));
  cli('pipeline', 'run', 'tiny.yaml');
  const failRun = spawnSync(sagebox, ['--data', data, 'pipeline', 'run', 'tinyfail.yaml'], { cwd: tmp, encoding: 'utf8' });
  check(failRun.status === 5, `pipeline run tinyfail.yaml: exit ${failRun.status}, expected 5 (FAILED): ${failRun.stderr}`);
  const executions = cliJson('pipeline', 'status', '--json');
  const ok = executions.find((e) => e.name.startsWith('tiny-'));
  const bad = executions.find((e) => e.name.startsWith('tinyfail-'));
  check(ok && ok.status === 'SUCCEEDED' && bad && bad.status === 'FAILED', `the CLI's executions: ${JSON.stringify(executions.map((e) => [e.name, e.status]))}`);
  const okStatus = cliJson('pipeline', 'status', ok.executionArn, '--json');
  const badStatus = cliJson('pipeline', 'status', bad.executionArn, '--json');
  const cliRuns = cliJson('pipeline', 'runs', '--execution', ok.executionArn, '--json');
  const cliModels = cliJson('pipeline', 'models', '--json').filter((m) => m.execution === ok.executionArn);
  check(cliRuns.length >= 2 && cliModels.length === 2, `the CLI shows ${cliRuns.length} runs and ${cliModels.length} models`);

  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await serveDist(context, DIST);
  // serveDist answers every request for `/` with index.html; the Step Functions API is POST /
  if (DIST) await context.route((url) => url.hostname === '127.0.0.1' && url.pathname === '/', (route) => (route.request().method() === 'POST' ? route.continue() : route.fallback()));
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));

  await step('an empty data folder: the tab says how to run a pipeline', async () => {
    const portFile = join(tmp, `port-${serverCount()}`);
    base = await launchServer(sagebox, ['--data', join(tmp, 'empty'), 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
    await open(page, '#/pipeline/executions', 'the empty Pipeline tab');
    const text = await page.locator('[data-testid=pipeline-none]').textContent();
    check(text.includes('sagebox pipeline run examples/pipeline/ocx.yaml'), `empty state: ${text}`);
    const tabs = await page.$$eval('[data-testid=module-tabs] a', (as) => as.map((a) => [a.dataset.module, a.textContent, a.classList.contains('active')]));
    check(JSON.stringify(tabs.at(-1)) === JSON.stringify(['pipeline', 'Pipeline', true]), `module tabs: ${JSON.stringify(tabs)}`);
    await shot(page, 'pipeline-empty');
  });

  const portFile = join(tmp, `port-${serverCount()}`);
  base = await launchServer(sagebox, ['--data', data, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
  console.log(`server at ${base}, data in ${data}`);

  await step('executions list: both executions, newest first, with the CLI\'s statuses', async () => {
    await open(page, '#/pipeline/executions', 'the executions list');
    const rows = await page.$$eval('[data-testid=execution-row]', (trs) => trs.map((tr) => [tr.dataset.arn, tr.dataset.status, tr.querySelector('[data-testid=status]').textContent]));
    const want = executions.slice().sort((a, b) => b.startDate - a.startDate).map((e) => [e.executionArn, e.status, e.status]);
    check(JSON.stringify(rows) === JSON.stringify(want), `rows ${JSON.stringify(rows)} != ${JSON.stringify(want)}`);
    await shot(page, 'pipeline-executions');
  });

  await step('one execution: clicking opens it; header as DescribeExecution says', async () => {
    await page.click(`[data-testid=execution-row][data-arn="${ok.executionArn}"] [data-testid=execution-link]`);
    await page.waitForFunction((arn) => window.__sagebox && window.__sagebox.pipeline && window.__sagebox.pipeline.execution === arn && document.body.dataset.state === 'ready', ok.executionArn);
    check(await page.locator('[data-testid=execution-status]').getAttribute('data-status') === 'SUCCEEDED', 'header status');
    check((await page.locator('[data-testid=execution-name]').textContent()).includes(ok.name), 'header name');
    check(await page.locator('[data-testid=execution-error]').count() === 0, 'an error shown for a succeeded execution');
  });

  await step('the state machine: a box per top-level state, runs and exits as the CLI counts them', async () => {
    const all = await boxes(page);
    const top = all.filter((b) => b.depth === 0).map((b) => b.name);
    check(JSON.stringify(top.slice().sort()) === JSON.stringify(Object.keys(definition.States).sort()), `top-level boxes ${JSON.stringify(top)} vs the definition's ${JSON.stringify(Object.keys(definition.States))}`);
    check(top[0] === definition.StartAt, `the first box is ${top[0]}, StartAt is ${definition.StartAt}`);
    const h = await hook(page);
    for (const s of okStatus.states) {
      const got = h.states[s.name];
      check(got && got.runs === s.entered && got.succeeded + got.caught === s.exited && got.failed === 0 && got.running === 0,
        `state ${s.name}: page ${JSON.stringify(got)}, CLI entered ${s.entered} exited ${s.exited}`);
    }
    const entered = new Set(okStatus.states.map((s) => s.name));
    for (const b of all) {
      if (!entered.has(b.name)) check(b.status === 'not-run', `${b.name} never entered but shown ${b.status}`);
    }
    const features = all.find((b) => b.name === 'Features');
    check(features.status === 'succeeded', `Features: ${features.status}`);
    check(all.find((b) => b.name === 'Pipeline Failed').status === 'not-run', 'Pipeline Failed should not have run');
  });

  await step('Map progress: Stages 2 of 2, Candidates one iteration per run, the caught candidate', async () => {
    const all = await boxes(page);
    const stages = all.find((b) => b.name === 'Stages');
    const cand = all.find((b) => b.name === 'Candidates');
    const train = all.find((b) => b.name === 'Train');
    const nStages = new Set(cliRuns.map((r) => r.stage)).size;
    check(stages.type === 'Map' && stages.progress.length === nStages && stages.progress.succeeded === nStages && stages.progress.failed === 0,
      `Stages progress ${JSON.stringify(stages.progress)}, ${nStages} stages`);
    check(stages.progress.text.includes(`${nStages} of ${nStages} iterations succeeded, 0 failed`), `Stages text: ${stages.progress.text}`);
    check(cand.depth === 1 && cand.progress.length === cliRuns.length && cand.progress.succeeded === cliRuns.length,
      `Candidates progress ${JSON.stringify(cand.progress)} vs ${cliRuns.length} runs`);
    check(stages.progress.succeeded + cand.progress.succeeded === okStatus.mapIterations.succeeded, `iterations: CLI ${JSON.stringify(okStatus.mapIterations)}`);
    const failedRuns = cliRuns.filter((r) => r.status === 'FAILED').length;
    const finished = cliRuns.filter((r) => r.status === 'FINISHED').length;
    check(failedRuns >= 1, 'the broken candidate did not fail');
    check(train.depth === 2 && train.status === 'caught' && train.counts === `Train: ${finished} succeeded, ${failedRuns} caught`, `Train box: ${JSON.stringify(train)}`);
    await shot(page, 'pipeline-execution');
  });

  await step('runs table: one row per candidate, metrics and exact costs as `pipeline runs --json`', async () => {
    const rows = await runRows(page);
    const want = cliRuns.map((r) => ({ name: r.run_name, stage: r.stage, algorithm: r.algorithm, status: r.status, metric: String(r.metrics.cv_accuracy), cost: r.cost_usd }));
    const key = (x) => x.name;
    const sortBy = (a) => a.slice().sort((x, y) => key(x).localeCompare(key(y)));
    check(JSON.stringify(sortBy(rows)) === JSON.stringify(sortBy(want)), `rows\n${JSON.stringify(sortBy(rows))}\nCLI\n${JSON.stringify(sortBy(want))}`);
    check(cliRuns.every((r) => /^\d+\.\d+$/.test(r.cost_usd)), `CLI costs: ${cliRuns.map((r) => r.cost_usd)}`);
    const total = await page.locator('[data-testid=runs-total]').getAttribute('data-amount');
    check(total === sumDec(cliRuns.map((r) => r.cost_usd)), `total ${total} != ${sumDec(cliRuns.map((r) => r.cost_usd))}`);
  });

  await step('runs table: sort by the metric (best first), then the stage filter', async () => {
    await page.click('[data-testid="sort-metric:cv_accuracy"]');
    const rows = await runRows(page);
    const metrics = rows.map((r) => Number(r.metric));
    const want = cliRuns.map((r) => r.metrics.cv_accuracy).sort((a, b) => b - a);
    check(JSON.stringify(metrics) === JSON.stringify(want), `sorted metrics ${metrics} != ${want}`);
    await page.selectOption('[data-testid=stage-filter]', 'alpha');
    const alpha = await runRows(page);
    check(alpha.length === cliRuns.filter((r) => r.stage === 'alpha').length && alpha.every((r) => r.stage === 'alpha'), `alpha rows ${JSON.stringify(alpha)}`);
    const total = await page.locator('[data-testid=runs-total]').getAttribute('data-amount');
    check(total === sumDec(cliRuns.filter((r) => r.stage === 'alpha').map((r) => r.cost_usd)), `alpha total ${total}`);
    await shot(page, 'pipeline-runs-alpha');
    await page.selectOption('[data-testid=stage-filter]', '');
  });

  await step('best model per stage as `pipeline models --json`', async () => {
    const rows = await page.$$eval('[data-testid=model-row]', (trs) => trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.textContent]))));
    const want = cliModels.map((m) => ({ stage: m.stage, model: m.model, version: String(m.version), alias: m.alias, metric: m.metric, training_job: m.training_job }))
      .sort((a, b) => a.stage.localeCompare(b.stage));
    check(JSON.stringify(rows) === JSON.stringify(want), `models\n${JSON.stringify(rows)}\nCLI\n${JSON.stringify(want)}`);
  });

  await step('the failed execution: error and cause, Features caught, Pipeline Failed failed, Stages not run', async () => {
    await open(page, execUrl(bad.executionArn), 'the failed execution');
    check(await page.locator('[data-testid=execution-status]').getAttribute('data-status') === 'FAILED', 'header status');
    const err = await page.locator('[data-testid=execution-error]').textContent();
    check(err.includes(badStatus.error) && err.includes(badStatus.cause), `error box "${err}" vs ${badStatus.error}: ${badStatus.cause}`);
    const all = await boxes(page);
    const st = Object.fromEntries(all.map((b) => [b.name, b.status]));
    check(st.Features === 'caught' && st['Features Failed'] === 'succeeded' && st['Pipeline Failed'] === 'failed' && st.Stages === 'not-run' && st.Done === 'not-run',
      `statuses ${JSON.stringify(st)}`);
    check(await page.locator('[data-testid=runs-none]').count() === 1 && await page.locator('[data-testid=models-none]').count() === 1, 'runs/models empty states');
    await shot(page, 'pipeline-failed');
  });

  await step('a RUNNING execution: the page refreshes itself until it ends', async () => {
    // the features job sleeps, so the page sees it running; `pipeline run` runs it meanwhile
    writeFileSync(join(tmp, 'slow.yaml'), config('slow', `sleep 6; ${FEATURES}`));
    const child = spawn(sagebox, ['--data', data, 'pipeline', 'run', 'slow.yaml', '--name', 'slow-1'], { cwd: tmp, stdio: 'ignore' });
    const ended = new Promise((r) => child.on('exit', r));
    let arn = null;
    for (let i = 0; i < 100 && !arn; i++) {
      const e = cliJson('pipeline', 'status', '--json').find((x) => x.name === 'slow-1');
      if (e) arn = e.executionArn;
      else await new Promise((r) => setTimeout(r, 100));
    }
    check(arn, 'the slow execution did not start');
    await open(page, execUrl(arn), 'the running execution');
    const first = await hook(page);
    check(first.status === 'RUNNING', `status ${first.status} (the features job sleeps 6 s)`);
    check(await page.locator('[data-testid=state][data-state=Features]').getAttribute('data-status') === 'running', 'Features is not shown running');
    await shot(page, 'pipeline-running');
    check(await ended === 0, 'pipeline run slow.yaml failed');
    await page.waitForFunction(() => window.__sagebox.pipeline && window.__sagebox.pipeline.status === 'SUCCEEDED', null, { timeout: 30000 });
    const last = await hook(page);
    check(last.refreshes > first.refreshes, `refreshes ${first.refreshes} → ${last.refreshes}`);
    check(await page.locator('[data-testid=state][data-state=Features]').getAttribute('data-status') === 'succeeded', 'Features not succeeded after the refresh');
    check(await page.locator('[data-testid=run-row]').count() === cliJson('pipeline', 'runs', '--execution', arn, '--json').length, 'runs after the refresh');
  });

  await step('no console errors', async () => {
    check(consoleErrors.length === 0, consoleErrors.join('\n'));
  });

  await step('the execution header shows its exact cost, as `pipeline status --json`', async () => {
    await open(page, execUrl(okStatus.executionArn), 'the good execution again');
    const cost = await page.locator('[data-testid=execution-cost] .figure-value').getAttribute('data-amount');
    check(cost === okStatus.costUsd && /^\d+\.\d+$/.test(cost), `header cost ${cost} != CLI ${okStatus.costUsd}`);
  });

  await step('a server with users: a viewer session reads the tab; changes stay on the signed AWS route', async () => {
    const sec = join(tmp, 'secured');
    execFileSync(sagebox, ['--data', sec, 'users', 'add', 'alice', '--role', 'admin', '--password-stdin'], { input: 'alice-secret-pw\n', stdio: ['pipe', 'pipe', 'pipe'] });
    execFileSync(sagebox, ['--data', sec, 'users', 'add', 'val', '--role', 'viewer', '--password-stdin'], { input: 'val-secret-pw-1\n', stdio: ['pipe', 'pipe', 'pipe'] });
    execFileSync(sagebox, ['--data', sec, 'pipeline', 'run', 'tiny.yaml', '--name', 'secured-1', '--quiet'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    const pf = join(tmp, `port-${serverCount()}`);
    base = await launchServer(sagebox, ['--data', sec, 'serve', '--listen', '127.0.0.1:0', '--port-file', pf], pf);
    const anon = await fetch(`${base}/api/pipeline/sfn/ListStateMachines?input=%7B%7D`);
    check(anon.status === 401, `without a session: HTTP ${anon.status}`);
    const ctx2 = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    await serveDist(ctx2, DIST);
    await signIn(ctx2, base, 'val', 'val-secret-pw-1');
    const p2 = await ctx2.newPage();
    await p2.goto(`${base}/#/pipeline/executions`);
    await settled(p2, 'the Pipeline tab on a server with users');
    check(await p2.locator('[data-testid=pipeline-unavailable]').count() === 0, 'the tab says it cannot read');
    const arns = await p2.$$eval('[data-testid=execution-row]', (trs) => trs.map((tr) => tr.dataset.arn));
    check(arns.length === 1 && arns[0].endsWith(':secured-1'), `rows ${JSON.stringify(arns)}`);
    const refused = await p2.evaluate(async () => {
      const r = await fetch('/api/pipeline/sfn/StopExecution?input=%7B%7D');
      return { status: r.status, body: await r.text() };
    });
    check(refused.status === 403 && refused.body.includes('AccessDeniedException'), `StopExecution on the UI route: ${JSON.stringify(refused)}`);
    await shot(p2, 'pipeline-secured');
    await ctx2.close();
  });
});
