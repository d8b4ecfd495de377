#!/usr/bin/env node
// make_fixtures.mjs: regenerates the Parquet test fixtures in this folder.
//
//   cd bench && npm ci && cd .. && node tests/data/parquet/make_fixtures.mjs [path/to/sagebox]
//
// 1. `sagebox demo --generate-only` writes two months of CUR 2.0, FOCUS and CUR 1.0
//    (Athena snake_case) CSV exports (seed 7).
// 2. DuckDB (npm @duckdb/node-api, from bench/node_modules) reads them as text, keeps
//    every Nth row and a subset of columns (all columns sagebox reads, plus the CUR 2.0
//    map columns), and writes that subset once as gzipped CSV (the reference) and several
//    times as Parquet with different writer settings: codecs, dictionary on/off, row group
//    sizes, Parquet format V1/V2 (V2 uses the DELTA_* encodings), DOUBLE and DECIMAL
//    costs, TIMESTAMP columns and MAP(VARCHAR, VARCHAR) columns.
// The e2e cases parquet_* ingest the CSV and each Parquet file into separate stores and
// require identical query output. See PROVENANCE.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../../..');
const require = createRequire(path.join(root, 'bench/package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const sagebox = process.argv[2] || path.join(root, 'build/debug/sagebox');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-pq-fixtures-'));
execFileSync(sagebox, ['demo', '--generate-only', '--dir', tmp, '--seed', '7', '--months', '2',
  '--rows', '400', '--formats', 'cur2-csv,focus-csv,cur1-snake'], { stdio: 'inherit' });
const exp = path.join(tmp, 'exports');

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const run = (sql) => con.run(sql);
await run("SET TimeZone='UTC'");
await run('SET threads=1');  // the same bytes on every run

function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.csv')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const list = (fs_) => '[' + fs_.map((f) => `'${f}'`).join(',') + ']';
const q = (c) => `"${c}"`;

// Source subset, as text (what the CSV said, byte for byte).
async function subset(name, dir, cols, every) {
  await run(`CREATE TABLE ${name} AS SELECT ${cols.map(q).join(',')} FROM (
      SELECT *, row_number() OVER () AS rn
      FROM read_csv(${list(files(dir))}, header=true, all_varchar=true, nullstr='')
    ) WHERE rn % ${every} = 1 ORDER BY rn`);
}

function select(name, cols, kinds, opts, where = '') {
  return `SELECT ${cols.map((c) => {
    const k = kinds[c] || 'text';
    if (k === 'ts') {
      // CUR 1.0 CSV writes '2024-01-01T00:00Z', which DuckDB's cast does not take.
      const v = `NULLIF(${q(c)}, 'NULL')`;
      return `COALESCE(CAST(TRY_CAST(${v} AS TIMESTAMPTZ) AS TIMESTAMP), strptime(${v}, '%Y-%m-%dT%H:%MZ')) AS ${q(c)}`;
    }
    if (k === 'num') return `CAST(NULLIF(${q(c)}, 'NULL') AS ${opts.num}) AS ${q(c)}`;
    if (k === 'map') return `CAST(CAST(NULLIF(${q(c)}, 'NULL') AS JSON) AS MAP(VARCHAR, VARCHAR)) AS ${q(c)}`;
    return `NULLIF(${q(c)}, 'NULL') AS ${q(c)}`;
  }).join(', ')} FROM ${name} ${where}`;
}

async function write(name, cols, kinds, file, opts) {
  const dest = path.join(here, file);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const o = [`FORMAT parquet`, `COMPRESSION ${opts.codec}`, `ROW_GROUP_SIZE ${opts.rg}`];
  if (opts.v2) o.push(`PARQUET_VERSION V2`);
  if (opts.nodict) o.push(`DICTIONARY_SIZE_LIMIT 1`);
  let sql = select(name, cols, kinds, opts);
  if (opts.rg < 2048) {
    // DuckDB closes row groups only between its 2048-row chunks; feeding it slices of
    // opts.rg rows (one chunk each, one thread) gives row groups of opts.rg rows.
    const n = Number((await con.runAndReadAll(`SELECT count(*) FROM ${name}`)).getRows()[0][0]);
    const parts = [];
    for (let i = 0; i < n; i += opts.rg) {
      parts.push(select(name, cols, kinds, opts, `WHERE rowid >= ${i} AND rowid < ${i + opts.rg}`));
    }
    sql = parts.join(' UNION ALL ');
  }
  await run(`COPY (${sql}) TO '${dest}' (${o.join(', ')})`);
}

async function writeCsv(name, cols, file) {
  const dest = path.join(here, file);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  await run(`COPY (SELECT ${cols.map(q).join(',')} FROM ${name}) TO '${dest}' (HEADER, COMPRESSION gzip)`);
}

// ---- CUR 2.0
const cur2Ts = ['bill_billing_period_start_date', 'line_item_usage_start_date', 'line_item_usage_end_date'];
const cur2Num = ['line_item_usage_amount', 'line_item_unblended_cost', 'line_item_blended_cost',
  'line_item_net_unblended_cost', 'pricing_public_on_demand_cost',
  'savings_plan_savings_plan_effective_cost', 'savings_plan_total_commitment_to_date',
  'savings_plan_used_commitment', 'savings_plan_savings_plan_rate', 'reservation_effective_cost',
  'reservation_unused_amortized_upfront_fee_for_billing_period', 'reservation_unused_recurring_fee'];
const cur2Text = ['bill_payer_account_id', 'line_item_usage_account_id', 'line_item_line_item_type',
  'line_item_product_code', 'line_item_usage_type', 'line_item_operation', 'product_region_code',
  'line_item_availability_zone', 'line_item_resource_id', 'line_item_currency_code', 'pricing_term',
  'savings_plan_savings_plan_a_r_n', 'reservation_reservation_a_r_n'];
const cur2Maps = ['product', 'resource_tags', 'cost_category', 'discount'];
const cur2Cols = [...cur2Ts, ...cur2Text, ...cur2Num, ...cur2Maps];
const cur2Kinds = Object.fromEntries([...cur2Ts.map((c) => [c, 'ts']), ...cur2Num.map((c) => [c, 'num']),
  ...cur2Maps.map((c) => [c, 'map'])]);
await subset('cur2', path.join(exp, 'cur2-csv'), cur2Cols, 60);
await writeCsv('cur2', cur2Cols, 'cur2/csv/cur2-subset.csv.gz');
await write('cur2', cur2Cols, cur2Kinds, 'cur2/snappy-dict-double.parquet',
  { codec: 'snappy', rg: 122880, num: 'DOUBLE' });
await write('cur2', cur2Cols, cur2Kinds, 'cur2/zstd-nodict-smallrg-dec18.parquet',
  { codec: 'zstd', rg: 175, nodict: true, num: 'DECIMAL(18,10)' });
await write('cur2', cur2Cols, cur2Kinds, 'cur2/gzip-dec38.parquet',
  { codec: 'gzip', rg: 122880, num: 'DECIMAL(38,10)' });
await write('cur2', cur2Cols, cur2Kinds, 'cur2/uncompressed-v2-double.parquet',
  { codec: 'uncompressed', rg: 122880, v2: true, num: 'DOUBLE' });

// ---- FOCUS
const fTs = ['BillingPeriodStart', 'ChargePeriodStart', 'ChargePeriodEnd'];
const fNum = ['BilledCost', 'EffectiveCost', 'ListCost', 'ConsumedQuantity'];
const fText = ['BillingAccountId', 'SubAccountId', 'x_ServiceCode', 'x_UsageType', 'x_Operation',
  'RegionId', 'AvailabilityZone', 'ResourceId', 'BillingCurrency', 'PricingCategory',
  'CommitmentDiscountId', 'ChargeCategory', 'ChargeFrequency', 'CommitmentDiscountType',
  'CommitmentDiscountStatus', 'ServiceName'];
const fMaps = ['Tags'];
const fCols = [...fTs, ...fText, ...fNum, ...fMaps];
const fKinds = Object.fromEntries([...fTs.map((c) => [c, 'ts']), ...fNum.map((c) => [c, 'num']),
  ...fMaps.map((c) => [c, 'map'])]);
await subset('focus', path.join(exp, 'focus-csv'), fCols, 60);
await writeCsv('focus', fCols, 'focus/csv/focus-subset.csv.gz');
await write('focus', fCols, fKinds, 'focus/snappy-dict-dec38.parquet',
  { codec: 'snappy', rg: 122880, num: 'DECIMAL(38,10)' });
await write('focus', fCols, fKinds, 'focus/zstd-v2-smallrg-double.parquet',
  { codec: 'zstd', rg: 200, v2: true, nodict: true, num: 'DOUBLE' });

// ---- CUR 1.0 for Athena: flat resource_tags_* columns, year=/month= partitions.
const c1Csv = files(path.join(exp, 'cur1-snake'));
const header = fs.readFileSync(c1Csv[0], 'utf8').split('\n', 1)[0].split(',').map((s) => s.replace(/"/g, ''));
const c1Cols = [...cur2Ts, ...cur2Text, ...cur2Num].filter((c) => header.includes(c));
for (const t of header.filter((h) => h.startsWith('resource_tags_'))) c1Cols.push(t);
await subset('cur1', path.join(exp, 'cur1-snake'), c1Cols, 120);
await writeCsv('cur1', c1Cols, 'cur1/csv/cur1-subset.csv.gz');
for (const m of [1, 2]) {
  await run(`CREATE OR REPLACE TABLE cur1_${m} AS SELECT * FROM cur1
             WHERE CAST(substr(bill_billing_period_start_date, 6, 2) AS INTEGER) = ${m}`);
  await write(`cur1_${m}`, c1Cols, cur2Kinds, `cur1/athena/year=2024/month=${m}/cur1-00001.snappy.parquet`,
    { codec: 'snappy', rg: 122880, num: 'DOUBLE' });
}

// A restated January (the manifest/restatement e2e case): every other row of it.
await run(`CREATE TABLE cur1_1r AS SELECT * FROM (SELECT *, row_number() OVER () AS rn2 FROM cur1_1)
           WHERE rn2 % 2 = 0 ORDER BY rn2`);
await write('cur1_1r', c1Cols, cur2Kinds, 'cur1/restated/cur1-2024-01-restated.snappy.parquet',
  { codec: 'snappy', rg: 122880, num: 'DOUBLE' });

// ---- Bad files for the error cases (tests/e2e/cases/bad_parquet_*), derived from the
// good ones. The unsupported codec is a real writer's output: DuckDB's LZ4 (LZ4_RAW).
await run('CREATE TABLE cur2_small AS SELECT * FROM cur2 LIMIT 40');
await write('cur2_small', cur2Cols, cur2Kinds, 'bad/lz4-codec.parquet',
  { codec: 'lz4', rg: 122880, num: 'DOUBLE' });
await write('cur2_small', cur2Cols, cur2Kinds, 'bad/gzip-source.parquet',
  { codec: 'gzip', rg: 122880, num: 'DOUBLE' });
{
  const goodFile = path.join(here, 'cur1/restated/cur1-2024-01-restated.snappy.parquet');
  const good = fs.readFileSync(goodFile);
  const put = (name, buf) => fs.writeFileSync(path.join(here, 'bad', name), buf);
  // The trailing magic is not PAR1.
  const magic = Buffer.from(good);
  magic.write('PARX', magic.length - 4, 'latin1');
  put('bad-magic.parquet', magic);
  // Start and end of the file kept, the middle lost: the footer length points before byte 0.
  put('footer-beyond-file.parquet', Buffer.concat([good.subarray(0, 2000), good.subarray(good.length - 8)]));
  // Cut in half, as an interrupted download would.
  put('truncated.parquet', good.subarray(0, Math.floor(good.length / 2)));
  // The page header of the unblended cost column overwritten with 0xff bytes.
  const gzFile = path.join(here, 'bad/gzip-source.parquet');
  const gz = fs.readFileSync(gzFile);
  const meta = async (file, col) => (await con.runAndReadAll(
    `SELECT data_page_offset, dictionary_page_offset, total_compressed_size FROM parquet_metadata('${file}')
     WHERE path_in_schema = '${col}' AND row_group_id = 0`)).getRows()[0].map(Number);
  const [dp] = await meta(goodFile, 'line_item_unblended_cost');
  const hdr = Buffer.from(good);
  hdr.fill(0xff, dp, dp + 8);
  put('corrupt-page-header.parquet', hdr);
  // Compressed bytes inside a GZIP page flipped: the gzip CRC (or inflate) catches it.
  const [gdp, , gsize] = await meta(gzFile, 'line_item_usage_type');
  const body = Buffer.from(gz);
  for (let i = gdp + 40; i < Math.min(gdp + 60, gdp + gsize - 1); i++) body[i] ^= 0x5a;
  put('corrupt-gzip-page.parquet', body);
  fs.rmSync(gzFile);
}

fs.rmSync(tmp, { recursive: true, force: true });
let total = 0;
const walk = (d) => {
  for (const n of fs.readdirSync(d).sort()) {
    const p = path.join(d, n);
    if (fs.statSync(p).isDirectory()) walk(p);
    else if (!n.endsWith('.mjs') && !n.endsWith('.md')) {
      total += fs.statSync(p).size;
      console.log(`${fs.statSync(p).size.toString().padStart(8)}  ${path.relative(here, p)}`);
    }
  }
};
walk(here);
console.log(`${total.toString().padStart(8)}  total bytes`);
