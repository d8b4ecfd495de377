// Development stand-in for `sagebox serve`: serves a built web UI and answers the JSON API
// of docs/api.md by running the sagebox CLI. Not shipped; the real server is src/server.
// Usage: node web/dev/mock-server.mjs --sagebox BIN --store DIR --dist DIR [--port-file F]
//        [--listen 127.0.0.1:0] [--token T] [--users NAME:PASSWORD[:ROLE],…]
//        [--budgets-json FILE] [--tag-keys team,project] [--jobs F] [--metrics F] [--logs F]
//        [--endpoint-json FILE|none] [--rag-data DIR | --rag-json FILE|none]
// The endpoint module (/api/endpoint/endpoints, /api/endpoint/models?endpoint=) answers from
// --endpoint-json (default dev/endpoint-sample.json: two endpoints, {endpoints, models: {NAME:
// answer}}); `none` answers 404 on both, as `sagebox serve` without an endpoint does.
// The rag module (/api/rag/indexes, ask, feedback, questions): with --rag-data DIR, indexes
// and answers come from `sagebox --data DIR rag indexes --json` / `rag ask … --format json`
// (real retrieval, for the browser test); otherwise from --rag-json (default
// dev/rag-sample.json: {indexes, answers: [ask answer]}, an unknown question gets the first
// answer's sources under its own text). Feedback and the question list are kept in memory
// either way; `none` answers 404 as a server without the rag API.
// Sign-in: with --users (or env SAGEBOX_MOCK_USERS, same format; `test` means the fixed
// test user alice:secret-pw:admin) every API call needs a session or the --token; without
// either the server is "open" as on loopback. Sessions live in memory: cookie
// sagebox_session (HttpOnly, SameSite=Strict), CSRF token checked on every non-GET call,
// viewers get 403 on non-GET calls.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const need of ['sagebox', 'store', 'dist']) {
  if (!args[need]) {
    console.error(`mock-server: --${need} is required`);
    process.exit(2);
  }
}
const [host, port] = (args.listen || '127.0.0.1:0').split(':');
const reportsFile = join(args.store, 'reports.json');
const endpointFile = args['endpoint-json'] || join(dirname(fileURLToPath(import.meta.url)), 'endpoint-sample.json');
const ragFile = args['rag-json'] || join(dirname(fileURLToPath(import.meta.url)), 'rag-sample.json');

// ---- users and sessions ---------------------------------------------------------------
const usersSpec = args.users || process.env.SAGEBOX_MOCK_USERS || '';
const users = new Map();
for (const u of (usersSpec === 'test' ? 'alice:secret-pw:admin' : usersSpec).split(',').filter(Boolean)) {
  const [name, password, role = 'admin'] = u.split(':');
  if (!name || !password || !['admin', 'user', 'viewer'].includes(role)) {
    console.error(`mock-server: bad --users entry ${JSON.stringify(u)} (NAME:PASSWORD[:ROLE])`);
    process.exit(2);
  }
  users.set(name, { password, role });
}
const authRequired = users.size > 0 || Boolean(args.token);
const SESSION_SECONDS = 12 * 3600;
const sessions = new Map(); // id → { name, role, csrf, expires }

function cookieValue(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

// Who is calling: { name, role, via, anonymous, session? } or null (401).
function caller(req) {
  const auth = req.headers.authorization || '';
  if (args.token && auth === `Bearer ${args.token}`) return { name: 'token', role: 'admin', via: 'token', anonymous: false };
  if (auth) return null; // a wrong bearer token is refused, cookie or not
  const id = cookieValue(req, 'sagebox_session');
  const s = id && sessions.get(id);
  if (s && s.expires > Date.now()) return { name: s.name, role: s.role, via: 'session', anonymous: false, session: s };
  if (!authRequired) return { name: 'local', role: 'admin', via: 'open', anonymous: true };
  return null;
}

async function readJsonBody(req) {
  let body = '';
  for await (const c of req) body += c;
  return JSON.parse(body);
}

// /api/whoami, /api/login, /api/logout; true when answered.
async function platform(req, res, p) {
  if (p === '/api/whoami') {
    if (req.method !== 'GET') return error(res, 405, 'MethodNotAllowed', 'use GET'), true;
    const who = caller(req);
    if (!who) return error(res, 401, 'Unauthenticated', 'Sign in first (POST /api/login) or send an API token.'), true;
    const { session, ...body } = who;
    return send(res, 200, body), true;
  }
  if (p === '/api/login') {
    if (req.method !== 'POST') return error(res, 405, 'MethodNotAllowed', 'use POST'), true;
    let j;
    try {
      j = await readJsonBody(req);
    } catch {
      return error(res, 400, 'InvalidArgument', 'the body must be JSON {"name", "password"}'), true;
    }
    if (!j || typeof j.name !== 'string' || typeof j.password !== 'string') return error(res, 400, 'InvalidArgument', 'the body must be JSON {"name", "password"}'), true;
    const u = users.get(j.name);
    if (!u || u.password !== j.password) return error(res, 401, 'Unauthenticated', 'Wrong name or password.'), true;
    const id = randomBytes(24).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    sessions.set(id, { name: j.name, role: u.role, csrf, expires: Date.now() + SESSION_SECONDS * 1000 });
    res.setHeader('Set-Cookie', `sagebox_session=${id}; Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Strict`);
    return send(res, 200, { name: j.name, role: u.role, csrf_token: csrf }), true;
  }
  if (p === '/api/logout') {
    if (req.method !== 'POST') return error(res, 405, 'MethodNotAllowed', 'use POST'), true;
    const who = caller(req);
    if (!who) return error(res, 401, 'Unauthenticated', 'not signed in'), true;
    if (who.session) {
      if (req.headers['x-csrf-token'] !== who.session.csrf) return error(res, 403, 'PermissionDenied', 'missing or wrong X-CSRF-Token header'), true;
      sessions.delete(cookieValue(req, 'sagebox_session'));
    }
    res.setHeader('Set-Cookie', 'sagebox_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
    return send(res, 200, {}), true;
  }
  return false;
}

function cli(argv) {
  return new Promise((resolve) => {
    execFile(args.sagebox, ['--store', args.store, ...argv], { maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code || 1 : 0, stdout, stderr });
    });
  });
}

function send(res, status, body, type = 'application/json') {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(data);
}

function error(res, status, code, message) {
  send(res, status, { error: { code, message } });
}

async function cliJson(res, argv, extra = {}) {
  const r = await cli(argv);
  if (r.code !== 0) return error(res, 400, 'InvalidArgument', r.stderr.trim() || 'failed');
  const headers = extra.type || 'application/json';
  return send(res, 200, r.stdout, headers);
}

function queryArgs(q) {
  const a = [];
  if (q.get('from')) a.push('--from', q.get('from'));
  if (q.get('to')) a.push('--to', q.get('to'));
  if (q.get('granularity')) a.push('--granularity', q.get('granularity'));
  const metrics = q.getAll('metric');
  if (metrics.length) a.push('--metrics', metrics.join(','));
  for (const g of q.getAll('group_by')) a.push('--group-by', g);
  for (const f of q.getAll('filter')) a.push('--filter', f);
  return a;
}

const DIMENSIONS = ['SERVICE', 'USAGE_TYPE', 'USAGE_KIND', 'INSTANCE_TYPE', 'REGION', 'LINKED_ACCOUNT',
  'PAYER_ACCOUNT', 'OPERATION', 'LINE_ITEM_TYPE', 'RESOURCE_ID', 'AZ', 'PURCHASE_TYPE', 'BILLING_PERIOD'];

async function meta() {
  const r = await cli(['cost', 'query', '--granularity', 'DAILY', '--format', 'json']);
  let range = null;
  if (r.code === 0) {
    const days = JSON.parse(r.stdout).ResultsByTime || [];
    if (days.length) range = { first: days[0].TimePeriod.Start, last: days[days.length - 1].TimePeriod.Start };
  }
  return {
    version: 'mock', store: args.store, currency: 'USD', data_range: range, dimensions: DIMENSIONS,
    tag_keys: (args['tag-keys'] || 'team').split(',').filter(Boolean),
    metrics: ['UnblendedCost', 'AmortizedCost', 'BlendedCost', 'NetUnblendedCost', 'UsageQuantity'],
    auth: authRequired,
  };
}

function sumStrings(list) {
  // good enough for a dev server: 10 decimals via BigInt
  let s = 0n;
  for (const t of list) {
    const neg = t.startsWith('-');
    const [i, f = ''] = (neg ? t.slice(1) : t).split('.');
    const v = BigInt(i || '0') * 10000000000n + BigInt((f + '0000000000').slice(0, 10));
    s += neg ? -v : v;
  }
  const neg = s < 0n;
  const a = neg ? -s : s;
  const frac = (a % 10000000000n).toString().padStart(10, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + (a / 10000000000n) + (frac ? '.' + frac : '');
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  let p = url.pathname;
  if (p === '/' || p === '/index.html') return send(res, 200, readFileSync(join(args.dist, 'index.html')), 'text/html; charset=utf-8');
  if (p === '/assets/app.js') return send(res, 200, readFileSync(join(args.dist, 'app.js')), 'text/javascript');
  if (p === '/assets/app.css') return send(res, 200, readFileSync(join(args.dist, 'app.css')), 'text/css');
  if (!p.startsWith('/api/')) return error(res, 404, 'NotFound', `no such path: ${p}`);
  if (await platform(req, res, p)) return;
  const who = caller(req);
  if (!who) return error(res, 401, 'Unauthenticated', args.token && !users.size ? 'missing or wrong bearer token' : 'Sign in first (POST /api/login) or send an API token.');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (who.role === 'viewer') return error(res, 403, 'PermissionDenied', `${who.name} is a viewer: read-only`);
    if (who.session && req.headers['x-csrf-token'] !== who.session.csrf) return error(res, 403, 'PermissionDenied', 'missing or wrong X-CSRF-Token header');
  }
  if (p.startsWith('/api/endpoint/')) return endpointApi(res, p, url.searchParams);
  if (p.startsWith('/api/rag/')) return ragApi(req, res, p, url.searchParams);
  // the cost API lives under /api/cost/; the old /api/<name> paths still answer
  if (p.startsWith('/api/cost/')) p = '/api/' + p.slice('/api/cost/'.length);
  const q = url.searchParams;
  const inputs = [];
  for (const k of ['jobs', 'metrics', 'logs']) if (args[k]) inputs.push(`--${k}`, args[k]);
  switch (p) {
    case '/api/meta': return send(res, 200, await meta());
    case '/api/query': return cliJson(res, ['cost', 'query', ...queryArgs(q), '--format', 'json']);
    case '/api/query.csv': return cliJson(res, ['cost', 'query', ...queryArgs(q), '--format', 'csv'], { type: 'text/csv' });
    case '/api/dimension-values': {
      const dim = q.get('dimension');
      const a = ['cost', 'query', '--group-by', dim, '--format', 'json'];
      if (q.get('from')) a.push('--from', q.get('from'));
      if (q.get('to')) a.push('--to', q.get('to'));
      const r = await cli(a);
      if (r.code !== 0) return error(res, 400, 'InvalidArgument', r.stderr.trim());
      const sums = new Map();
      for (const t of JSON.parse(r.stdout).ResultsByTime || []) {
        for (const g of t.Groups || []) {
          let k = g.Keys[0];
          if (dim.startsWith('TAG:') && k.startsWith(dim.slice(4) + '$')) k = k.slice(dim.length - 3);
          if (!sums.has(k)) sums.set(k, []);
          sums.get(k).push(g.Metrics.UnblendedCost.Amount);
        }
      }
      const values = [...sums.entries()].map(([value, l]) => ({ value, amount: sumStrings(l) })).sort((x, y) => Number(y.amount) - Number(x.amount));
      return send(res, 200, { dimension: dim, values });
    }
    case '/api/findings': return cliJson(res, ['cost', 'findings', ...inputs, '--format', 'json']);
    case '/api/forecast': {
      const a = ['cost', 'forecast', '--format', 'json'];
      for (const k of ['metric', 'granularity', 'horizon', 'interval']) if (q.get(k)) a.push(`--${k}`, q.get(k));
      for (const f of q.getAll('filter')) a.push('--filter', f);
      return cliJson(res, a);
    }
    case '/api/savings-plans/recommendation': {
      const a = ['cost', 'savings-plans', 'recommend', '--format', 'json'];
      if (q.get('term')) a.push('--term-in-years', q.get('term'));
      if (q.get('payment')) a.push('--payment-option', q.get('payment'));
      if (q.get('lookback')) a.push('--lookback-period-in-days', q.get('lookback'));
      return cliJson(res, a);
    }
    case '/api/budgets':
      if (!args['budgets-json']) return send(res, 200, { configured: false });
      return send(res, 200, readFileSync(args['budgets-json']));
    case '/api/reports': {
      const reports = existsSync(reportsFile) ? JSON.parse(readFileSync(reportsFile, 'utf8')) : { reports: [] };
      return send(res, 200, reports);
    }
    default:
      break;
  }
  if (p.startsWith('/api/reports/')) {
    const name = decodeURIComponent(p.slice('/api/reports/'.length));
    const reports = existsSync(reportsFile) ? JSON.parse(readFileSync(reportsFile, 'utf8')) : { reports: [] };
    if (req.method === 'PUT') {
      let body = '';
      for await (const c of req) body += c;
      const j = JSON.parse(body);
      reports.reports = reports.reports.filter((r) => r.name !== name);
      reports.reports.push({ name, query: j.query });
      writeFileSync(reportsFile, JSON.stringify(reports));
      return send(res, 200, { name, query: j.query });
    }
    if (req.method === 'DELETE') {
      const before = reports.reports.length;
      reports.reports = reports.reports.filter((r) => r.name !== name);
      if (before === reports.reports.length) return error(res, 404, 'NotFound', `no report named ${name}`);
      writeFileSync(reportsFile, JSON.stringify(reports));
      return send(res, 200, {});
    }
  }
  return error(res, 404, 'NotFound', `no such API: ${p}`);
}

// The endpoint module's JSON API from the fixture (read on every call, so it can be edited
// while the dashboard runs); 404 in the server's shape when there is no endpoint.
function endpointApi(res, p, q) {
  if (endpointFile === 'none') return error(res, 404, 'NotFound', `no API at ${p} (see docs/api.md)`);
  const fx = JSON.parse(readFileSync(endpointFile, 'utf8'));
  if (p === '/api/endpoint/endpoints') return send(res, 200, { endpoints: fx.endpoints || [] });
  if (p === '/api/endpoint/models') {
    const name = q.get('endpoint') || ((fx.endpoints || [])[0] || {}).name || '';
    const m = (fx.models || {})[name];
    if (!m) return error(res, 404, 'NotFound', `no endpoint ${name}`);
    return send(res, 200, m);
  }
  return error(res, 404, 'NotFound', `no endpoint API at ${p}`);
}

// ---- the rag module ---------------------------------------------------------------------------
const ragLog = []; // the questions asked here, oldest first, in /api/rag/questions' shape
let ragNextId = 1;

async function ragIndexes() {
  if (!args['rag-data']) return JSON.parse(readFileSync(ragFile, 'utf8')).indexes || [];
  const r = await ragCli(['rag', 'indexes', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).map((i) => ({
    name: i.name, documents: i.documents, chunks: i.chunks, vectors: i.vectors, bytes: i.bytes,
    embedder: i.embedder || '', splitter: i.splitter, chunk_size: i.chunk_size, chunk_overlap: i.chunk_overlap, created_unix: 0,
  }));
}

function ragCli(argv) {
  return new Promise((resolve) => {
    execFile(args.sagebox, ['--data', args['rag-data'], ...argv], { maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code || 1 : 0, stdout, stderr });
    });
  });
}

async function ragApi(req, res, p, q) {
  if (!args['rag-data'] && ragFile === 'none') return error(res, 404, 'NotFound', `no API at ${p} (see docs/api.md)`);
  if (p === '/api/rag/indexes') return send(res, 200, { indexes: await ragIndexes() });
  if (p === '/api/rag/questions') {
    const limit = Number(q.get('limit') || 20);
    const index = q.get('index') || '';
    return send(res, 200, { questions: ragLog.filter((x) => !index || x.index === index).slice(-limit).reverse() });
  }
  if (req.method !== 'POST') return error(res, 405, 'MethodNotAllowed', 'use POST');
  let j;
  try {
    j = await readJsonBody(req);
  } catch {
    return error(res, 400, 'InvalidArgument', 'the body must be JSON');
  }
  if (p === '/api/rag/feedback') {
    const f = j.feedback;
    if (!(f === 'up' || f === 'down' || (typeof f === 'string' && f.startsWith('source:') && f.length > 7))) return error(res, 400, 'InvalidArgument', `feedback ${JSON.stringify(f)}: expected up, down or source:<chunk id>`);
    const rec = ragLog.find((x) => x.id === j.id);
    if (!rec) return error(res, 404, 'NotFound', `no question ${j.id}`);
    rec.feedback = f;
    return send(res, 200, { id: rec.id, feedback: f });
  }
  if (p !== '/api/rag/ask') return error(res, 404, 'NotFound', `no rag API at ${p}`);
  if (typeof j.index !== 'string' || typeof j.question !== 'string' || !j.question.trim()) return error(res, 400, 'InvalidArgument', 'body: expected {"index", "question"}');
  let answer;
  if (args['rag-data']) {
    const a = ['rag', 'ask', j.index, j.question, '--format', 'json'];
    if (j.k !== undefined) a.push('--k', String(j.k));
    if (j.mode !== undefined) a.push('--mode', j.mode);
    const r = await ragCli(a);
    if (r.code !== 0) return error(res, /no (such )?index|not found/i.test(r.stderr) ? 404 : 400, 'InvalidArgument', r.stderr.trim());
    answer = JSON.parse(r.stdout);
    ragNextId = Math.max(ragNextId, answer.id + 1);
  } else {
    const fx = JSON.parse(readFileSync(ragFile, 'utf8'));
    if (!(fx.indexes || []).some((x) => x.name === j.index)) return error(res, 404, 'NotFound', `no index ${j.index}`);
    const answers = fx.answers || [];
    answer = { ...(answers.find((x) => x.question === j.question) || answers[0]), question: j.question, index: j.index, id: ragNextId++ };
  }
  ragLog.push({
    id: answer.id, asked_unix_us: Date.now() * 1000, index: answer.index, question: answer.question, answer: answer.answer,
    provider: answer.provider, mode: answer.mode, latency_ms: answer.latency_ms, cost_usd: answer.cost_usd, feedback: null,
    results: answer.sources.map((s) => ({ chunk_id: s.chunk_id, source: s.source, score: s.score })),
  });
  return send(res, 200, answer);
}

const server = createServer((req, res) => {
  handle(req, res).catch((e) => error(res, 500, 'Internal', String(e)));
});
server.listen(Number(port), host, () => {
  const actual = server.address().port;
  if (args['port-file']) writeFileSync(args['port-file'], String(actual));
  console.log(`sagebox serve: listening on http://${host}:${actual}/`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
