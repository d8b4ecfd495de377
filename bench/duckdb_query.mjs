#!/usr/bin/env node
// duckdb_query.mjs: the DuckDB peer for the query-latency benchmark.
//
// Opens a database made by `duckdb_ingest.mjs --keep` (table `cur`, legacy CUR
// column names, types sniffed) and runs the daily x usage-type SageMaker
// query --runs times, printing the mean, min and max seconds of the query
// alone (no Node start-up, no open/close: the most favourable view of the
// peer) and the number of result rows.
//
// Usage: node duckdb_query.mjs --db PATH [--runs N] [--json] [--dump ROWS.csv]
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
let db = null, runs = 10, json = false, dump = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--db') db = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--json') json = true;
  else if (args[i] === '--dump') dump = args[++i];
}
if (!db) {
  process.stderr.write('usage: node duckdb_query.mjs --db PATH [--runs N] [--json]\n');
  process.exit(1);
}
// The same question as
//   sagebox cost query --granularity DAILY --filter SERVICE=AmazonSageMaker --group-by USAGE_TYPE
// with DuckDB's exact DECIMAL sums.
const SQL = `
SELECT CAST(date_trunc('day', CAST("lineItem/UsageStartDate" AS TIMESTAMP)) AS DATE) AS day,
       "lineItem/UsageType" AS usage_type,
       SUM(CAST("lineItem/UnblendedCost" AS DECIMAL(38, 10))) AS unblended
FROM cur
WHERE "lineItem/ProductCode" = 'AmazonSageMaker'
GROUP BY 1, 2
ORDER BY 1, 3 DESC`;

const instance = await DuckDBInstance.create(db);
const con = await instance.connect();
const times = [];
let rows = 0;
let last = null;
for (let i = 0; i < runs + 1; i++) {
  const t0 = process.hrtime.bigint();
  const reader = await con.runAndReadAll(SQL);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  last = reader.getRows();
  rows = last.length;
  if (i > 0) times.push(secs);  // the first run warms the buffer pool
}
if (dump) {
  const fs = await import('node:fs');
  const lines = ['day,usage_type,unblended'];
  for (const [d, u, v] of last) lines.push(`${d},${u ?? ''},${v}`);
  fs.writeFileSync(dump, lines.join('\n') + '\n');
}
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const out = { rows, runs, mean, min: Math.min(...times), max: Math.max(...times) };
process.stdout.write(json ? JSON.stringify(out) + '\n'
                          : `duckdb query: ${rows} rows, mean ${mean.toFixed(4)} s over ${runs} runs\n`);
