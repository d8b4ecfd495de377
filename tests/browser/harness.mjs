// What the browser tests (tests/browser/*_test.mjs) share: the sagebox binary from the command
// line, the screenshots folder, step/check with the PASS/FAIL lines and the exit code, servers
// that write a port file (`sagebox serve`, `sagebox endpoint serve`, web/dev/mock-server.mjs),
// headless Debian Chromium, and the page helpers every test needs. One test per process: the
// counts and the list of servers live in this module.
//
//   env SAGEBOX_ARTIFACTS=DIR    screenshots go there (default tests/browser/artifacts/)
// Needs `npm ci` in web/ (playwright-core) and /usr/bin/chromium.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
const require = createRequire(join(repo, 'web/package.json'));
const { chromium } = require('playwright-core');

export const MOCK = process.env.SAGEBOX_TEST_MOCK === '1';
export const MOCK_SERVER = join(repo, 'web/dev/mock-server.mjs');

// The sagebox binary named on the command line, absolute; without one that exists, prints the
// usage of the calling test (`script`, its file URL) and exits 2.
export function sageboxFromArgs(script) {
  const sagebox = process.argv[2] ? resolve(process.argv[2]) : null;
  if (!sagebox || !existsSync(sagebox)) {
    console.error(`usage: node tests/browser/${basename(fileURLToPath(script))} path/to/sagebox`);
    process.exit(2);
  }
  return sagebox;
}

let artifacts = null;
// The screenshots folder ($SAGEBOX_ARTIFACTS or tests/browser/artifacts/), made if missing.
export function artifactsDir() {
  if (!artifacts) {
    artifacts = resolve(process.env.SAGEBOX_ARTIFACTS || join(here, 'artifacts'));
    mkdirSync(artifacts, { recursive: true });
  }
  return artifacts;
}
// A `shot(page, name)` that saves `<artifacts>/<name>.png`, the whole page or only the viewport.
export function screenshots({ fullPage }) {
  const dir = artifactsDir();
  return (page, name) => page.screenshot({ path: join(dir, `${name}.png`), fullPage });
}

// ---- steps and checks ------------------------------------------------------------------------
let passed = 0;
let failed = 0;
// A failed comparison: its message is the whole report (no stack).
export class Mismatch extends Error {}
export function check(cond, message) {
  if (!cond) throw new Mismatch(message);
}
// Runs one named step: `PASS name (ms)` or `FAIL name: why`; a failed step does not stop the test.
export async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Mismatch ? e.message : e.stack || e}`);
  }
}

// A step that fails early leaves the waiters it set up (waitForResponse…) to time out later:
// with this, their rejections are that step's failure, already counted, and are only noted,
// instead of crashing the test.
export function noteRejectionsAfterFailedSteps() {
  process.on('unhandledRejection', (e) => console.log(`     (after a failed step: ${String(e && e.message).split('\n')[0]})`));
}

// ---- servers ---------------------------------------------------------------------------------
const servers = [];
// Whatever ends the process, the servers end with it.
process.on('exit', () => {
  for (const s of servers) if (s.exitCode === null) s.kill('SIGTERM');
});
// How many servers this test started so far (to name each one's port file and data folder).
export const serverCount = () => servers.length;

// Starts `command args…`, a server that writes its port to `portFile` once it listens, and
// resolves to `http://127.0.0.1:PORT`. Rejects, with the server's output, if it exits first or
// writes no port within 60 s (a Debug build with ASan on a busy machine starts slowly).
export async function launchServer(command, args, portFile) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  child.on('exit', (code) => (exited = code));
  servers.push(child);
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the server exited with ${exited} before listening:\n${output}`);
    if (existsSync(portFile)) {
      const port = readFileSync(portFile, 'utf8').trim();
      if (/^\d+$/.test(port)) return `http://127.0.0.1:${port}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server did not write its port file within 60 s:\n${output}`);
}

// The front end built into `tmp`/dist for the mock server (built once per test).
export function mockDist(tmp) {
  const dist = join(tmp, 'dist');
  if (!existsSync(join(dist, 'app.js'))) execFileSync('node', [join(repo, 'web/build.mjs'), dist], { stdio: 'ignore' });
  return dist;
}

// ---- the browser and page helpers ------------------------------------------------------------
let browser = null;
// Headless /usr/bin/chromium; closed by `run`.
export async function launchChromium() {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
  return browser;
}

// Waits until the page says it is ready or shows an error; an error is a Mismatch naming `what`.
export async function settled(page, what) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state === 'error') {
    const text = await page.locator('[data-testid=error]').textContent();
    throw new Mismatch(`${what}: the page shows an error: ${text}`);
  }
}

// Signs `context` in as `name` (POST /api/login): the session cookie lands in the context, and
// the page's GET /api/whoami hands the app its CSRF token. Throws with the server's answer.
export async function signIn(context, base, name, password) {
  const r = await context.request.post(`${base}/api/login`, { data: { name, password } });
  if (!r.ok()) throw new Error(`POST /api/login as ${name}: HTTP ${r.status()} ${await r.text()}`);
}

// With `dist` (a `node web/build.mjs DIR`), the browser gets index.html, app.js and app.css of
// `context` from there instead of the server: a front end tested against a server binary
// built without it (env SAGEBOX_TEST_DIST in the tests).
export async function serveDist(context, dist) {
  if (!dist) return;
  const files = { '/': ['index.html', 'text/html; charset=utf-8'], '/assets/app.js': ['app.js', 'text/javascript'], '/assets/app.css': ['app.css', 'text/css'] };
  await context.route((url) => url.hostname === '127.0.0.1' && Object.hasOwn(files, url.pathname), (route) => {
    const [name, contentType] = files[new URL(route.request().url()).pathname];
    return route.fulfill({ status: 200, contentType, body: readFileSync(join(dist, name)) });
  });
}

// GET `url` as JSON; throws with the status and body unless it is 2xx.
export async function getJson(url) {
  const r = await fetch(url);
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status} ${text}`);
  return JSON.parse(text);
}

// Runs the test's body: an exception out of it is `FAIL setup`. Then closes the browser, stops
// the servers, removes `tmp`, prints the summary and exits 1 if any step failed, else 0.
export async function run(tmp, body) {
  try {
    await body();
  } catch (e) {
    failed++;
    console.log(`FAIL setup: ${e.stack || e}`);
  } finally {
    if (browser) await browser.close();
    for (const s of servers) s.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`screenshots: ${artifactsDir()}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
