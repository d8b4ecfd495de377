#!/usr/bin/env node
// summarize.mjs RESULT_DIR DATA_DIR ROWS: turns one ingest.sh run (hyperfine
// JSON, per-run peak RSS files, command logs) into a markdown table with
// MB/s of uncompressed CSV, ratios against the peers, and the issue's targets.
import fs from 'node:fs';
import path from 'node:path';

const [res, data, rowsArg] = process.argv.slice(2);
if (!res || !data) {
  process.stderr.write('usage: node summarize.mjs RESULT_DIR DATA_DIR ROWS\n');
  process.exit(1);
}
const read = (f) => fs.readFileSync(f, 'utf8');
const exists = (f) => fs.existsSync(f);

const hf = JSON.parse(read(path.join(res, 'hyperfine.json')));
const plainBytes = Number(read(path.join(data, '.plain_bytes')).trim());
const gzBytes = (() => {
  let s = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.csv.gz')) s += fs.statSync(p).size;
    }
  };
  walk(path.join(data, 'exports', 'legacy-csv-gz'));
  return s;
})();
const storeBytes = exists(path.join(res, 'store_bytes')) ? Number(read(path.join(res, 'store_bytes'))) : NaN;

const r = {};
for (const x of hf.results) {
  const name = x.command;
  const rssFile = path.join(res, `rss-${name}.txt`);
  const rss = exists(rssFile)
    ? read(rssFile).split('\n').map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number)
    : [];
  r[name] = {
    mean: x.mean, stddev: x.stddev ?? 0, min: x.min, max: x.max, n: x.times.length,
    cpu: x.user + x.system,
    rssMiB: rss.length ? Math.max(...rss) / 1024 : NaN,
  };
}

// Rows as each tool reported them.
let sageRows = NaN;
const sageLog = path.join(res, 'log-sagebox-gz.txt');
if (exists(sageLog)) {
  const m = read(sageLog).match(/: (\d+) line items/);
  if (m) sageRows = Number(m[1]);
}
const duck = {};
for (const name of Object.keys(r).filter((n) => n.startsWith('duckdb'))) {
  const lines = read(path.join(res, `log-${name}.txt`)).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const last = lines[lines.length - 1];
  const inner = lines.map((l) => l.seconds);
  duck[name] = { ...last, innerMean: inner.reduce((a, b) => a + b, 0) / inner.length };
}

const mb = plainBytes / 1e6;
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const out = [];
out.push(`### ${Number(rowsArg).toLocaleString('en-US')} requested rows: ${f(sageRows, 0)} line items, ` +
  `${f(mb, 1)} MB uncompressed CSV, ${f(gzBytes / 1e6, 1)} MB .csv.gz (${Object.values(r)[0].n} timed runs each)`);
// Load samples ("epoch l1 l5 l15 | others_cpu% N top...") and the time each
// command's runs started (timeline.txt, written by its --prepare).
const loadFile = path.join(res, 'load.txt');
const samples = exists(loadFile)
  ? read(loadFile).split('\n').filter(Boolean).map((l) => {
      const [head, tail = ''] = l.split(' | ');
      const [t, l1] = head.split(' ').map(Number);
      const m = tail.match(/others_cpu% (\d+)\s*(.*)/);
      return { t, l1, others: m ? Number(m[1]) : NaN, top: m ? m[2].trim() : '' };
    }).filter((x) => Number.isFinite(x.t) && Number.isFinite(x.l1))
  : [];
const timelineFile = path.join(res, 'timeline.txt');
const starts = {};
if (exists(timelineFile)) {
  for (const l of read(timelineFile).split('\n').filter(Boolean)) {
    const [t, name] = l.split(' ');
    if (!(name in starts)) starts[name] = Number(t);
  }
}
const order = Object.keys(starts).sort((a, b) => starts[a] - starts[b]);
const windowOf = (name) => {
  const i = order.indexOf(name);
  if (i < 0) return null;
  const end = i + 1 < order.length ? starts[order[i + 1]] : Infinity;
  const s = samples.filter((x) => x.t >= starts[name] && x.t < end);
  if (!s.length) return null;
  const busiest = s.reduce((a, b) => (b.others > a.others ? b : a));
  return {
    others: s.reduce((a, b) => a + (b.others || 0), 0) / s.length,
    max: busiest.others,
    top: busiest.others >= 20 ? busiest.top : '',
  };
};
if (samples.length) {
  const avg = samples.reduce((a, b) => a + b.l1, 0) / samples.length;
  out.push('');
  out.push(`Machine load during the run (1-min load average, ${samples.length} samples every 15 s, 2 cores; ` +
    `this includes the benchmark itself): min ${f(Math.min(...samples.map((x) => x.l1)))}, mean ${f(avg)}, ` +
    `max ${f(Math.max(...samples.map((x) => x.l1)))}. "Others' CPU" below is the CPU % of processes outside ` +
    'the benchmark (other people\'s builds and tests) while that command ran (200 % = both cores).');
}
out.push('');
out.push('| command | mean ± σ (s) | min … max (s) | MB/s of uncompressed CSV | CPU user+sys (s) | peak RSS (MiB) | others\' CPU % mean / max |');
out.push('|---|---:|---:|---:|---:|---:|---|');
for (const [name, x] of Object.entries(r)) {
  out.push(`| ${name} | ${f(x.mean)} ± ${f(x.stddev)} | ${f(x.min)} … ${f(x.max)} | ${f(mb / x.mean, 1)} | ${f(x.cpu)} | ${f(x.rssMiB, 1)} | ${(() => { const w = windowOf(name); return w ? `${f(w.others, 0)} / ${f(w.max, 0)}${w.top ? ' (' + w.top + ')' : ''}` : 'n/a'; })()} |`);
}
out.push('');
if (Object.keys(duck).length) {
  out.push('DuckDB as reported by the script (CTAS + CHECKPOINT inside the process, without Node start-up and close):');
  out.push('');
  out.push('| command | rows | columns (VARCHAR) | threads | inner seconds (mean) | database bytes |');
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const [name, d] of Object.entries(duck)) {
    out.push(`| ${name} | ${d.rows} | ${d.columns} (${d.varchar_columns}) | ${d.threads} | ${f(d.innerMean)} | ${d.db_bytes} |`);
  }
  out.push('');
}

const ratio = (a, b) => (r[a] && r[b] ? r[a].mean / r[b].mean : NaN);
const lines = [];
const rows = [];
const addRatio = (label, a, b) => {
  const v = ratio(a, b);
  if (Number.isFinite(v)) rows.push(`| ${label} | ${a} / ${b} | ${f(v)} |`);
  return v;
};
rows.push('| ratio | of mean times | value |');
rows.push('|---|---|---:|');
const dCsv = addRatio('DuckDB / sagebox, plain CSV', 'duckdb-csv', 'sagebox-csv');
const dCsvV = addRatio('DuckDB (all_varchar) / sagebox, plain CSV', 'duckdb-csv-varchar', 'sagebox-csv');
const dGz = addRatio('DuckDB / sagebox, .csv.gz', 'duckdb-gz', 'sagebox-gz');
const dGzV = addRatio('DuckDB (all_varchar) / sagebox, .csv.gz', 'duckdb-gz-varchar', 'sagebox-gz');
const zc = addRatio('sagebox / zcat, .csv.gz', 'sagebox-gz', 'zcat-gz');
addRatio('sagebox .csv.gz / sagebox plain CSV', 'sagebox-gz', 'sagebox-csv');
out.push(...rows);
out.push('');

const speedups = [dCsv, dCsvV, dGz, dGzV].filter(Number.isFinite);
const worst = Math.min(...speedups);
const sageRss = Math.max(...Object.entries(r).filter(([n]) => n.startsWith('sagebox')).map(([, x]) => x.rssMiB));
lines.push(`- **≥ 2× faster than DuckDB CTAS:** ${worst >= 2 ? 'met' : 'NOT met'} — the smallest DuckDB/sagebox ratio is ${f(worst)}× (${worst >= 2 ? f(worst / 2) + '× above' : f(2 / worst) + '× short of'} the target).`);
if (Number.isFinite(zc)) {
  lines.push(`- **within 1.2× of zcat:** ${zc <= 1.2 ? 'met' : 'NOT met'} — sagebox takes ${f(zc)}× zcat's time on the same .csv.gz (${zc <= 1.2 ? 'limit 1.20' : f(zc / 1.2) + '× over the 1.20 limit'}).`);
}
lines.push(`- **peak RSS ≤ 512 MiB:** ${sageRss <= 512 ? 'met' : 'NOT met'} — sagebox peaked at ${f(sageRss, 1)} MiB (${f(sageRss / 512 * 100, 1)} % of the limit).`);
if (Number.isFinite(storeBytes)) {
  lines.push(`- (not an ingest target; from the same data) store size ${f(storeBytes / 1e6, 1)} MB = ${f(storeBytes / gzBytes)}× the .csv.gz (issue target ≤ 0.5×: ${storeBytes / gzBytes <= 0.5 ? 'met' : 'NOT met'}).`);
}
out.push(...lines);
process.stdout.write(out.join('\n') + '\n');
