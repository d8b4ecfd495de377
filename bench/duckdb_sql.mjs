#!/usr/bin/env node
// duckdb_sql.mjs: the DuckDB peer for the `cost sql` benchmark (bench/sql.sh).
//
// Loads the CUR 1.0 CSV export into DuckDB's own table `cur` (CTAS, typed as
// Athena's CUR table: DECIMAL(38,10) numbers, TIMESTAMP times, VARCHAR
// strings, year/month from the hive path; the same typing as the e2e oracle
// tests/e2e/oracle/duckdb_sql.mjs), then runs each bench/sql/*.sql query
// rewritten to DuckDB's dialect (DATE_FORMAT -> strftime, current_date ->
// DATE '<as-of>', the table placeholders -> cur) --runs times, timing the
// query alone inside this process (first run discarded). Writes each
// query's rows as CSV (Athena text forms, as `cost sql --format csv`) for
// the agreement check, and one JSON line per query on stdout.
//
// Usage: node duckdb_sql.mjs --csv-glob GLOB --as-of YYYY-MM-DD --out DIR [--runs N] QUERY.sql...
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
let glob = null, asOf = null, out = null, runs = 5;
const queries = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--csv-glob') glob = args[++i];
  else if (args[i] === '--as-of') asOf = args[++i];
  else if (args[i] === '--out') out = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else queries.push(args[i]);
}
if (!glob || !asOf || !out) {
  process.stderr.write('usage: node duckdb_sql.mjs --csv-glob GLOB --as-of DATE --out DIR [--runs N] Q.sql...\n');
  process.exit(1);
}

const STR = ['bill_payer_account_id', 'line_item_usage_account_id', 'line_item_line_item_type',
  'line_item_product_code', 'line_item_usage_type', 'line_item_operation',
  'line_item_availability_zone', 'line_item_resource_id', 'line_item_currency_code',
  'line_item_unblended_rate', 'line_item_blended_rate', 'line_item_line_item_description',
  'product_product_name', 'product_region', 'pricing_term', 'reservation_reservation_a_r_n',
  'savings_plan_savings_plan_a_r_n', 'resource_tags_user_project', 'resource_tags_user_team'];
const TS = ['bill_billing_period_start_date', 'bill_billing_period_end_date',
  'line_item_usage_start_date', 'line_item_usage_end_date'];
const DEC = ['line_item_usage_amount', 'line_item_unblended_cost', 'line_item_blended_cost',
  'line_item_net_unblended_cost', 'pricing_public_on_demand_cost',
  'savings_plan_savings_plan_effective_cost', 'savings_plan_savings_plan_rate',
  'savings_plan_total_commitment_to_date', 'savings_plan_used_commitment'];
// sagebox's SELECT * order.
const STAR = ['bill_payer_account_id', 'bill_billing_period_start_date', 'bill_billing_period_end_date',
  'line_item_usage_account_id', 'line_item_line_item_type', 'line_item_usage_start_date',
  'line_item_usage_end_date', 'line_item_product_code', 'line_item_usage_type', 'line_item_operation',
  'line_item_availability_zone', 'line_item_resource_id', 'line_item_usage_amount',
  'line_item_currency_code', 'line_item_unblended_rate', 'line_item_unblended_cost',
  'line_item_blended_rate', 'line_item_blended_cost', 'line_item_line_item_description',
  'line_item_net_unblended_cost', 'product_product_name', 'product_region', 'pricing_term',
  'pricing_public_on_demand_cost', 'reservation_reservation_a_r_n', 'savings_plan_savings_plan_a_r_n',
  'savings_plan_savings_plan_effective_cost', 'savings_plan_savings_plan_rate',
  'savings_plan_total_commitment_to_date', 'savings_plan_used_commitment',
  'resource_tags_user_project', 'resource_tags_user_team', 'year', 'month'];

function javaDouble(d) {
  if (d === 0) return '0.0';
  const a = Math.abs(d);
  const [mant, e] = d.toExponential().split('e');
  const exp = Number(e);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  if (a >= 1e-3 && a < 1e7) {
    const s = exp >= 0
      ? digits.slice(0, exp + 1).padEnd(exp + 1, '0') + '.' + (digits.length > exp + 1 ? digits.slice(exp + 1) : '0')
      : '0.' + '0'.repeat(-exp - 1) + digits;
    return (neg ? '-' : '') + s;
  }
  return (neg ? '-' : '') + digits[0] + '.' + (digits.length > 1 ? digits.slice(1) : '0') + 'E' + exp;
}
function text(v, type) {
  if (v === null || v === undefined) return '';
  let s = type === 'DOUBLE' ? javaDouble(v) : v.toString();
  if (type === 'TIMESTAMP' && !s.includes('.')) s += '.000';
  return /[,"\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

// Athena -> DuckDB, and the same tie-break sagebox applies (all output columns).
function rewrite(sql) {
  let s = sql.replace(/--[^\n]*/g, '').replace(/;\s*$/, '');
  s = s.replace(/\{\$table_name\}|\$\{table_name\}|customer_all/g, 'cur');
  s = s.replace(/DATE_FORMAT\(/gi, 'strftime(');
  s = s.replace(/current_date/gi, `DATE '${asOf}'`);
  s = s.replace(/SELECT \*/i, 'SELECT ' + STAR.join(', '));
  // SUM(CAST(x AS DOUBLE)): sagebox sums the decimals exactly, then rounds once.
  s = s.replace(/SUM\(CAST\((\w+) AS double\)\)/gi, 'CAST(SUM(CAST($1 AS DECIMAL(38,10))) AS DOUBLE)');
  return s;
}

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const hdr = await con.runAndReadAll(
  `SELECT * FROM read_csv('${glob}', all_varchar = true, header = true) LIMIT 0`);
const present = new Set(hdr.columnNames());
// A column the export lacks is '' / 0, as in the store (net unblended = unblended).
const dec = (c) => (present.has(c) ? `COALESCE(CAST(NULLIF(${c}, '') AS DECIMAL(38,10)), 0)`
  : c === 'line_item_net_unblended_cost' ? dec('line_item_unblended_cost') : 'CAST(0 AS DECIMAL(38,10))');
const cols = [
  ...STR.map((c) => (present.has(c) ? `COALESCE(${c}, '')` : `''`) + ` AS ${c}`),
  ...TS.map((c) => `CAST(replace(replace(${c}, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ${c}`),
  ...DEC.map((c) => `${dec(c)} AS ${c}`),
  'year', 'month'];
let t0 = process.hrtime.bigint();
await con.run(`CREATE TABLE cur AS SELECT ${cols.join(', ')} FROM read_csv('${glob}', all_varchar = true,
  header = true, hive_partitioning = true, hive_types_autocast = false)`);
const loadSecs = Number(process.hrtime.bigint() - t0) / 1e9;
const n = (await con.runAndReadAll('SELECT count(*) FROM cur')).getRows()[0][0];
process.stdout.write(JSON.stringify({ load: loadSecs, rows: Number(n) }) + '\n');
fs.mkdirSync(out, { recursive: true });
for (const qf of queries) {
  const name = path.basename(qf, '.sql');
  const sql = rewrite(fs.readFileSync(qf, 'utf8'));
  const times = [];
  let reader = null;
  for (let i = 0; i < runs + 1; i++) {
    t0 = process.hrtime.bigint();
    reader = await con.runAndReadAll(sql);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i > 0) times.push(secs);
  }
  const types = reader.columnTypes().map((t) => t.toString());
  const lines = [reader.columnNames().join(',')];
  for (const row of reader.getRows()) lines.push(row.map((v, i) => text(v, types[i])).join(','));
  fs.writeFileSync(path.join(out, `${name}.duckdb.csv`), lines.join('\n') + '\n');
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  process.stdout.write(JSON.stringify({ query: name, rows: lines.length - 1, runs, mean,
                                        min: Math.min(...times), max: Math.max(...times) }) + '\n');
}
