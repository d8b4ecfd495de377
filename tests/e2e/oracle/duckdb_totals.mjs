// duckdb_totals.mjs: the independent oracle for the e2e "real data" cases.
//
// For each real export in tests/data/real/ it asks DuckDB for exact decimal
// sums per month x line item type (also per usage type, per tag, and per day
// and hour) and writes them to tests/e2e/oracle/expected/<dataset>.<grouping>.csv.
// The e2e cases compare `sagebox cost query --format csv` with these files
// (tests/e2e/lib/compare_totals.py), as decimals.
//
// A dev tool: CI does not run it; its output is committed. To regenerate:
//   mkdir -p /tmp/duck && cd /tmp/duck && npm init -y && npm install @duckdb/node-api
//   DUCKDB_DIR=/tmp/duck node tests/e2e/oracle/duckdb_totals.mjs
// (run from the repository root; python3 is used to unpack the one .zip,
// which DuckDB cannot read without an extension).
//
// Rules (written from AWS's and FOCUS's definitions, not from sagebox's code):
// - Every value is read as VARCHAR (read_csv(..., all_varchar=true)) and
//   summed as SUM(CAST(x AS DECIMAL(38,10))): exact; a value with more than
//   10 decimals is rounded half away from zero by the cast (FOCUS has some).
//   Empty strings are NULL (= 0); in FOCUS the literal 'NULL' is NULL too.
// - Rows are bucketed by the month (day, hour) of the usage start (lineItem/UsageStartDate,
//   line_item_usage_start_date, FOCUS ChargePeriodStart), as Cost Explorer
//   and `cost query` do. (One FOCUS row has BillingPeriodStart 2024-10 but
//   ChargePeriodStart 2024-09; the CUR files' usage lies inside their period.)
// - UnblendedCost = lineItem/UnblendedCost (FOCUS: BilledCost).
// - BlendedCost = lineItem/BlendedCost (FOCUS: not defined, left empty).
// - NetUnblendedCost = lineItem/NetUnblendedCost where the export has the
//   column and the value is not empty; an export without it carries no
//   discounts, so net unblended equals unblended there (FOCUS: left empty).
// - AmortizedCost, CUR: the AWS CUR Query Library's
//   amortized_cost_by_charge_type.sql rules (SavingsPlanCoveredUsage ->
//   SavingsPlanEffectiveCost, SavingsPlanRecurringFee -> TotalCommitmentToDate
//   - UsedCommitment, SavingsPlanNegation/SavingsPlanUpfrontFee -> 0,
//   DiscountedUsage -> reservation EffectiveCost, RIFee -> unused upfront +
//   unused recurring, Fee with a reservation ARN -> 0, else unblended).
//   FOCUS: EffectiveCost.
// - UsageQuantity = lineItem/UsageAmount (FOCUS: ConsumedQuantity).
// - LINE_ITEM_TYPE, FOCUS: ChargeCategory Usage -> Usage, or
//   SavingsPlanCoveredUsage when CommitmentDiscountStatus = 'Used' and
//   CommitmentDiscountType = 'Savings Plan' (DiscountedUsage for other
//   commitment types); Purchase -> SavingsPlanUpfrontFee / SavingsPlanRecurringFee
//   / RIFee / Fee; Tax -> Tax; Credit -> Credit; Adjustment -> Refund.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// @duckdb/node-api lives in a scratch folder outside the repository.
const DUCK_DIR = process.env.DUCKDB_DIR ?? '/tmp/duck';
const { DuckDBInstance } = createRequire(join(DUCK_DIR, 'package.json'))('@duckdb/node-api');

const REAL = 'tests/data/real';
const OUT = 'tests/e2e/oracle/expected';

// The metrics in the order `cost query --metrics` is asked for them.
const METRICS = ['UnblendedCost', 'BlendedCost', 'NetUnblendedCost', 'AmortizedCost', 'UsageQuantity'];

function q(name) { return '"' + name.replaceAll('"', '""') + '"'; }

// A numeric column as DECIMAL(38,10); NULL for empty (and 'NULL' in FOCUS).
function num(col, focus) {
  const v = focus ? `NULLIF(NULLIF(${q(col)}, ''), 'NULL')` : `NULLIF(${q(col)}, '')`;
  return `CAST(${v} AS DECIMAL(38,10))`;
}
// '2023-11-01T00:00:00.000Z', '2024-01-01T00:00Z', '2024-09-01 00:00:00' -> TIMESTAMP (UTC).
function ts(col) {
  return `CAST(replace(replace(${q(col)}, 'T', ' '), 'Z', '') AS TIMESTAMP)`;
}
function str(col, focus) {
  return focus ? `COALESCE(NULLIF(${q(col)}, 'NULL'), '')` : `COALESCE(${q(col)}, '')`;
}

// Column names of the legacy (slash) and snake_case CUR layouts.
const CUR_NAMES = {
  legacy: {
    start: 'lineItem/UsageStartDate', type: 'lineItem/LineItemType', usageType: 'lineItem/UsageType',
    service: 'lineItem/ProductCode',
    unblended: 'lineItem/UnblendedCost', blended: 'lineItem/BlendedCost',
    net: 'lineItem/NetUnblendedCost', usage: 'lineItem/UsageAmount',
    spEff: 'savingsPlan/SavingsPlanEffectiveCost', spTotal: 'savingsPlan/TotalCommitmentToDate',
    spUsed: 'savingsPlan/UsedCommitment', riEff: 'reservation/EffectiveCost',
    riUnusedUpfront: 'reservation/UnusedAmortizedUpfrontFeeForBillingPeriod',
    riUnusedRecurring: 'reservation/UnusedRecurringFee', riArn: 'reservation/ReservationARN',
  },
  snake: {
    start: 'line_item_usage_start_date', type: 'line_item_line_item_type', usageType: 'line_item_usage_type',
    service: 'line_item_product_code',
    unblended: 'line_item_unblended_cost', blended: 'line_item_blended_cost',
    net: 'line_item_net_unblended_cost', usage: 'line_item_usage_amount',
    spEff: 'savings_plan_savings_plan_effective_cost', spTotal: 'savings_plan_total_commitment_to_date',
    spUsed: 'savings_plan_used_commitment', riEff: 'reservation_effective_cost',
    riUnusedUpfront: 'reservation_unused_amortized_upfront_fee_for_billing_period',
    riUnusedRecurring: 'reservation_unused_recurring_fee', riArn: 'reservation_reservation_a_r_n',
  },
};

function curSelect(layout, columns) {
  const n = CUR_NAMES[layout];
  const has = (c) => columns.includes(c);
  const zero = 'CAST(0 AS DECIMAL(38,10))';
  const col = (c) => (has(c) ? `COALESCE(${num(c)}, ${zero})` : zero);
  const unblended = col(n.unblended);
  const net = has(n.net) ? `COALESCE(${num(n.net)}, ${unblended})` : unblended;
  const t = q(n.type);
  const amortized = `CASE
      WHEN ${t} = 'SavingsPlanCoveredUsage' THEN ${col(n.spEff)}
      WHEN ${t} = 'SavingsPlanRecurringFee' THEN ${col(n.spTotal)} - ${col(n.spUsed)}
      WHEN ${t} IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN ${zero}
      WHEN ${t} = 'DiscountedUsage' THEN ${col(n.riEff)}
      WHEN ${t} = 'RIFee' THEN ${col(n.riUnusedUpfront)} + ${col(n.riUnusedRecurring)}
      WHEN ${t} = 'Fee' AND ${has(n.riArn) ? `COALESCE(${q(n.riArn)}, '') <> ''` : 'false'} THEN ${zero}
      ELSE ${unblended} END`;
  return {
    start: ts(n.start),
    type: str(n.type),
    usageType: str(n.usageType),
    service: str(n.service),
    tagColumn: 'resource_tags',
    metrics: {
      UnblendedCost: unblended,
      BlendedCost: has(n.blended) ? col(n.blended) : null,
      NetUnblendedCost: net,
      AmortizedCost: amortized,
      UsageQuantity: col(n.usage),
    },
  };
}

function focusSelect(columns) {
  const zero = 'CAST(0 AS DECIMAL(38,10))';
  const col = (c) => `COALESCE(${num(c, true)}, ${zero})`;
  const cat = str('ChargeCategory', true);
  const ctype = str('CommitmentDiscountType', true);
  const cstatus = str('CommitmentDiscountStatus', true);
  const freq = str('ChargeFrequency', true);
  const type = `CASE
      WHEN ${cat} = 'Usage' AND ${cstatus} = 'Used' AND ${ctype} = 'Savings Plan' THEN 'SavingsPlanCoveredUsage'
      WHEN ${cat} = 'Usage' AND ${cstatus} = 'Used' THEN 'DiscountedUsage'
      WHEN ${cat} = 'Usage' THEN 'Usage'
      WHEN ${cat} = 'Purchase' AND ${ctype} = 'Savings Plan' AND ${freq} = 'One-Time' THEN 'SavingsPlanUpfrontFee'
      WHEN ${cat} = 'Purchase' AND ${ctype} = 'Savings Plan' THEN 'SavingsPlanRecurringFee'
      WHEN ${cat} = 'Purchase' AND ${ctype} = 'Reservation' THEN 'RIFee'
      WHEN ${cat} = 'Purchase' THEN 'Fee'
      WHEN ${cat} = 'Tax' THEN 'Tax'
      WHEN ${cat} = 'Credit' THEN 'Credit'
      WHEN ${cat} = 'Adjustment' THEN 'Refund'
      ELSE ${cat} END`;
  return {
    start: ts('ChargePeriodStart'),
    type,
    // AWS's FOCUS exports add x_UsageType; the FOCUS 1.0 sample has none.
    usageType: columns.includes('x_UsageType') ? str('x_UsageType', true) : "''",
    // SERVICE: AWS's FOCUS exports carry the product code as x_ServiceCode; other
    // providers' rows (and the FOCUS 1.0 sample) only have ServiceName.
    service: columns.includes('x_ServiceCode')
      ? `COALESCE(NULLIF(NULLIF(${q('x_ServiceCode')}, 'NULL'), ''), ${str('ServiceName', true)})`
      : str('ServiceName', true),
    tagColumn: 'Tags',
    metrics: {
      UnblendedCost: col('BilledCost'),
      BlendedCost: null,
      NetUnblendedCost: null,
      AmortizedCost: col('EffectiveCost'),
      UsageQuantity: col('ConsumedQuantity'),
    },
  };
}

// What the e2e cases ingest, and which files hold the rows.
const DATASETS = [
  // tags: [TAG:key as queried, the key in the export's JSON tag column]. CUR 2.0 writes
  // user-defined tags as user_<key> in resource_tags; FOCUS writes them as-is in Tags.
  { name: 'legacy_focus_converters', layout: 'legacy',
    files: [`${REAL}/focus-converters/sample-anonymous-aws-export-dataset.csv`] },
  { name: 'cur2_ola_raji', layout: 'snake', hourly: true, tags: [['project', 'user_project'], ['cost_center', 'user_cost_center']],
    files: [`${REAL}/ola-raji-cur2/data/ha-project-CUR-daily-1-00001.csv`] },
  { name: 'focus_sample', layout: 'focus', hourly: true, tags: [['application', 'application']],
    files: [`${REAL}/focus-sample-data/FOCUS-1.0/focus_sample.csv`] },
  { name: 'keboola_cur1', layout: 'legacy',
    files: [`${REAL}/keboola-cur-mock/cur_1_0/s3_structure/mock-cur-bucket/20240101-20240131/MockTestReport-00001.csv.zip`] },
  { name: 'keboola_cur2', layout: 'snake',
    files: [`${REAL}/keboola-cur-mock/cur_2_0/s3_structure/mock-cur-v2-bucket/data/BILLING_PERIOD=2024-09/MockTestReportV2-00001.csv.gz`] },
];

const scratch = mkdtempSync(join(tmpdir(), 'duckdb-oracle-'));
function readable(path) {
  if (!path.endsWith('.zip')) return path;
  const dir = join(scratch, String(Math.random()).slice(2));
  mkdirSync(dir);
  execFileSync('python3', ['-c',
    'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = z.namelist(); assert len(n) == 1; ' +
    'open(sys.argv[2], "wb").write(z.read(n[0]))', path, join(dir, 'data.csv')]);
  return join(dir, 'data.csv');
}

function csvField(s) {
  return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
mkdirSync(OUT, { recursive: true });

for (const ds of DATASETS) {
  const paths = ds.files.map(readable);
  const src = `read_csv([${paths.map((p) => `'${p}'`).join(', ')}], all_varchar=true, header=true, ` +
    `delim=',', quote='"', escape='"', union_by_name=true)`;
  const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson()
    .map((r) => r.column_name);
  const sel = ds.layout === 'focus' ? focusSelect(cols) : curSelect(ds.layout, cols);
  // [file name, granularity, group-by keys]
  const groupings = [['by_type', 'MONTHLY', ['type']], ['by_type_usage', 'MONTHLY', ['type', 'usageType']],
    ['daily_by_type', 'DAILY', ['type']], ['by_service_type_usage', 'MONTHLY', ['service', 'type', 'usageType']]];
  if (ds.hourly) groupings.push(['hourly_by_type', 'HOURLY', ['type']]);
  // Cost Explorer writes a tag group's key as "<key>$<value>", "<key>$" for untagged.
  for (const [key, jsonKey] of ds.tags ?? []) {
    const tagged = `NULLIF(json_extract_string(NULLIF(NULLIF(${q(sel.tagColumn)}, ''), 'NULL'), ` +
      `'$."${jsonKey}"'), '')`;
    sel[`tag_${key}`] = `'${key}$' || COALESCE(${tagged}, '')`;
    groupings.push([`by_tag_${key}`, 'MONTHLY', [`tag_${key}`]]);
  }
  for (const [grouping, granularity, keys] of groupings) {
    const unit = { MONTHLY: 'month', DAILY: 'day', HOURLY: 'hour' }[granularity];
    const format = granularity === 'HOURLY' ? '%Y-%m-%dT%H:%M:%SZ' : '%Y-%m-%d';
    const bucket = `date_trunc('${unit}', ${sel.start})`;
    const keyExprs = keys.map((k, i) => `${sel[k]} AS k${i}`);
    const metricExprs = METRICS.map((m, i) =>
      sel.metrics[m] === null ? `NULL AS m${i}` : `CAST(SUM(${sel.metrics[m]}) AS VARCHAR) AS m${i}`);
    const sql = `SELECT strftime(${bucket}, '${format}') AS bucket_start, ` +
      `strftime(${bucket} + INTERVAL 1 ${unit}, '${format}') AS bucket_end, ` +
      `${keyExprs.join(', ')}, ${metricExprs.join(', ')}, ` +
      `count(*) AS n FROM ${src} GROUP BY ALL ORDER BY ALL`;
    const rows = (await con.runAndReadAll(sql)).getRowObjectsJson();
    const names = { type: 'LINE_ITEM_TYPE', usageType: 'USAGE_TYPE', service: 'SERVICE' };
    const header = ['Start', 'End', ...keys.map((k) => names[k] ?? `TAG:${k.slice(4)}`),
      ...METRICS, 'Rows'];
    const lines = [header.join(',')];
    for (const r of rows) {
      lines.push([r.bucket_start, r.bucket_end, ...keys.map((_, i) => r[`k${i}`]),
        ...METRICS.map((_, i) => r[`m${i}`] ?? ''), r.n].map((v) => csvField(String(v))).join(','));
    }
    const file = `${OUT}/${ds.name}.${grouping}.csv`;
    writeFileSync(file, lines.join('\n') + '\n');
    console.log(`${file}: ${rows.length} groups`);
  }
}
rmSync(scratch, { recursive: true, force: true });
