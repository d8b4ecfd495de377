#!/usr/bin/env node
// duckdb_findings.mjs: the DuckDB peer for the findings benchmark.
//
// The always-on rule of `sagebox cost findings` written in SQL: per
// (resource id, usage type) the SageMaker instance-hours of every day, the
// longest run of consecutive days with >= 24 hours (gaps and islands), and
// the resources whose run is >= 3 days. It runs over a database made by
// `duckdb_ingest.mjs --keep` (table `cur`, legacy CUR columns). Prints the
// mean, min and max seconds of the query alone (first run discarded) and,
// with --dump, the resources it finds, for the agreement check.
//
// Usage: node duckdb_findings.mjs --db PATH [--runs N] [--json] [--dump OUT.csv]
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
let db = null, runs = 5, json = false, dump = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--db') db = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--json') json = true;
  else if (args[i] === '--dump') dump = args[++i];
}
if (!db) {
  process.stderr.write('usage: node duckdb_findings.mjs --db PATH [--runs N] [--json]\n');
  process.exit(1);
}
const SQL = `
WITH daily AS (
  SELECT "lineItem/ResourceId" AS rid, "lineItem/UsageType" AS ut,
         CAST(CAST("lineItem/UsageStartDate" AS TIMESTAMP) AS DATE) AS day,
         SUM(CAST("lineItem/UsageAmount" AS DECIMAL(38, 10))) AS hours
  FROM cur
  WHERE "lineItem/ProductCode" = 'AmazonSageMaker'
    AND "lineItem/LineItemType" IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
    AND regexp_matches(lower("lineItem/UsageType"), '(notebk|studio|studio_dw):.*ml\\.')
    AND lower("lineItem/UsageType") NOT LIKE '%volumeusage%'
  GROUP BY 1, 2, 3),
full_days AS (
  SELECT rid, ut, day,
         day - CAST(row_number() OVER (PARTITION BY rid, ut ORDER BY day) AS INTEGER) AS island
  FROM daily WHERE hours >= 23.99),
runs AS (SELECT rid, ut, island, count(*) AS n FROM full_days GROUP BY 1, 2, 3)
SELECT rid, ut, max(n) AS streak FROM runs GROUP BY 1, 2 HAVING max(n) >= 3 ORDER BY 1, 2`;

const instance = await DuckDBInstance.create(db);
const con = await instance.connect();
const times = [];
let last = null;
for (let i = 0; i < runs + 1; i++) {
  const t0 = process.hrtime.bigint();
  const reader = await con.runAndReadAll(SQL);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  last = reader.getRows();
  if (i > 0) times.push(secs);
}
if (dump) {
  const fs = await import('node:fs');
  const lines = ['resource_id,usage_type,streak'];
  for (const [r, u, n] of last) lines.push(`${r},${u},${n}`);
  fs.writeFileSync(dump, lines.join('\n') + '\n');
}
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const out = { rows: last.length, runs, mean, min: Math.min(...times), max: Math.max(...times) };
process.stdout.write(json ? JSON.stringify(out) + '\n'
                          : `duckdb findings: ${last.length} rows, mean ${mean.toFixed(4)} s\n`);
