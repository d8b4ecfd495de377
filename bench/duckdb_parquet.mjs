#!/usr/bin/env node
// duckdb_parquet.mjs: the DuckDB side of the Parquet ingest benchmark.
//
//   node duckdb_parquet.mjs convert OUTDIR CSV...
//       Converts sagebox demo CUR 2.0 CSV exports to Parquet the way AWS Data Exports
//       write it: SNAPPY, TIMESTAMP columns, DOUBLE costs, the map columns (product,
//       resource_tags, cost_category, discount) as MAP(VARCHAR, VARCHAR), everything
//       else VARCHAR; one file per input, under OUTDIR/BILLING_PERIOD=YYYY-MM/ (taken
//       from the CSV's folder name), row groups of 122,880 rows (DuckDB's default).
//   node duckdb_parquet.mjs ingest [--threads N] [--columns sagebox] [--json] FILES...
//       CREATE TABLE cur AS SELECT * FROM read_parquet([FILES]) on a fresh database
//       file, then CHECKPOINT; --columns sagebox selects only the columns sagebox's
//       reader decodes (the same work sagebox does), instead of *.
// The database file lives under $TMPDIR and is deleted before and after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, version } from '@duckdb/node-api';

const args = process.argv.slice(2);
const mode = args.shift();
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

// The columns sagebox binds for CUR 2.0 (cost/billing_reader.cc kSnake) that exist in
// the demo export.
const SAGEBOX_COLUMNS = ['bill_billing_period_start_date', 'line_item_usage_start_date',
  'line_item_usage_end_date', 'bill_payer_account_id', 'line_item_usage_account_id',
  'line_item_line_item_type', 'line_item_product_code', 'line_item_usage_type',
  'line_item_operation', 'product_region_code', 'line_item_availability_zone',
  'line_item_resource_id', 'line_item_currency_code', 'pricing_term',
  'savings_plan_savings_plan_a_r_n', 'reservation_reservation_a_r_n', 'line_item_usage_amount',
  'line_item_unblended_cost', 'line_item_blended_cost', 'line_item_net_unblended_cost',
  'pricing_public_on_demand_cost', 'savings_plan_savings_plan_effective_cost',
  'savings_plan_total_commitment_to_date', 'savings_plan_used_commitment',
  'savings_plan_savings_plan_rate', 'reservation_effective_cost',
  'reservation_unused_amortized_upfront_fee_for_billing_period',
  'reservation_unused_recurring_fee', 'resource_tags'];

if (mode === 'convert') {
  const out = args.shift();
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run("SET TimeZone='UTC'");
  for (const csv of args) {
    const period = path.basename(path.dirname(csv));
    const cols = (await con.runAndReadAll(
      `DESCRIBE SELECT * FROM read_csv(${sqlString(csv)}, header=true, all_varchar=true)`)).getRows().map((r) => r[0]);
    const types = Object.fromEntries((await con.runAndReadAll(
      `DESCRIBE SELECT * FROM read_csv(${sqlString(csv)}, header=true)`)).getRows().map((r) => [r[0], r[1]]));
    const maps = new Set(['product', 'resource_tags', 'cost_category', 'discount']);
    const sel = cols.map((c) => {
      const q = `"${c}"`;
      if (maps.has(c)) return `CAST(CAST(${q} AS JSON) AS MAP(VARCHAR, VARCHAR)) AS ${q}`;
      if (/_(start|end)_date$/.test(c)) return `CAST(CAST(${q} AS TIMESTAMPTZ) AS TIMESTAMP) AS ${q}`;
      if (['DOUBLE', 'BIGINT', 'DECIMAL'].some((t) => String(types[c]).startsWith(t)) &&
          !/_id$|_identifier$/.test(c)) return `CAST(${q} AS DOUBLE) AS ${q}`;
      return q;
    }).join(', ');
    const dir = path.join(out, period);
    fs.mkdirSync(dir, { recursive: true });
    const dest = path.join(dir, path.basename(csv).replace(/\.csv$/, '.snappy.parquet'));
    await con.run(`COPY (SELECT ${sel} FROM read_csv(${sqlString(csv)}, header=true, all_varchar=true))
                   TO ${sqlString(dest)} (FORMAT parquet, COMPRESSION snappy)`);
    process.stdout.write(`${dest}\n`);
  }
} else if (mode === 'ingest') {
  let threads = null;
  let columns = '*';
  let json = false;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') threads = args[++i];
    else if (args[i] === '--columns') columns = args[++i] === 'sagebox' ? SAGEBOX_COLUMNS.map((c) => `"${c}"`).join(', ') : '*';
    else if (args[i] === '--json') json = true;
    else files.push(args[i]);
  }
  const dbPath = path.join(os.tmpdir(), `sagebox-bench-duckdb-pq-${process.pid}.duckdb`);
  const rm = () => { for (const s of ['', '.wal']) fs.rmSync(dbPath + s, { force: true }); };
  rm();
  const instance = await DuckDBInstance.create(dbPath, threads ? { threads: String(threads) } : {});
  const conn = await instance.connect();
  const list = `[${files.map((f) => sqlString(path.resolve(f))).join(', ')}]`;
  const t0 = process.hrtime.bigint();
  await conn.run(`CREATE TABLE cur AS SELECT ${columns} FROM read_parquet(${list}, union_by_name=true)`);
  await conn.run('CHECKPOINT');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rows = Number((await conn.runAndReadAll('SELECT count(*) FROM cur')).getRows()[0][0]);
  const th = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
  conn.closeSync();
  instance.closeSync();
  rm();
  const r = { duckdb: version(), threads: Number(th), columns: columns === '*' ? 'all' : 'sagebox', files: files.length, rows, seconds };
  process.stdout.write(json ? JSON.stringify(r) + '\n' :
    `duckdb ${r.duckdb} threads=${r.threads} columns=${r.columns}: ${rows} rows from ${files.length} file(s) in ${seconds.toFixed(3)} s\n`);
} else {
  process.stderr.write('usage: duckdb_parquet.mjs convert OUTDIR CSV... | ingest [--threads N] [--columns sagebox] [--json] FILES...\n');
  process.exit(1);
}
