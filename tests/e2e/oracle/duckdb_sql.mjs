// duckdb_sql.mjs: the independent oracle for the `cost sql` e2e cases.
//
// It generates the same demo export the cases ingest (`sagebox demo
// --generate-only`, fixed seed: the CSV is the input, sagebox's answers are
// not used), loads the CUR 1.0 (Athena snake_case) CSV into DuckDB, runs
// each query rewritten into DuckDB's dialect, and writes the case's
// expected_stdout in the text form `cost sql --format csv` prints.
//
// A dev tool: CI does not run it; its output is committed. To regenerate
// (from the repository root, after building sagebox):
//   (cd bench && npm ci)
//   node tests/e2e/oracle/duckdb_sql.mjs build/debug/sagebox
//
// The table DuckDB queries (view `cur`) is the CSV typed as Athena's CUR
// table is, with two documented choices that mirror the store:
// - numbers are read as text and CAST to DECIMAL(38,10) (exact; Athena has
//   DOUBLE, sagebox exact decimals), an empty number is 0;
// - an empty string field is '' (the CSV has no NULLs);
// - year and month are the hive partition values of the export path
//   (year=2024/month=3), as in AWS's Athena integration.
// Rewrites from Athena to DuckDB (and nothing else):
//   DATE_FORMAT(x, '%Y-%m-%d') -> strftime(x, '%Y-%m-%d');
//   current_date -> DATE '<--as-of>'; {$table_name}, customer_all -> cur;
//   SUM(CAST(x AS DOUBLE)) -> CAST(SUM(CAST(x AS DECIMAL(38,10))) AS DOUBLE):
//   sagebox returns the correctly rounded sum of the doubles (exact
//   summation, as Python's math.fsum), independent of row order; DuckDB's
//   SUM and fsum round along the way. The exact decimal sum rounded once is
//   the same number unless it lies on a rounding boundary (none here; such a
//   case would show up as a failing case, not pass silently). Athena's own
//   double SUM can differ in the last digits, even from run to run.
// Ties in ORDER BY are broken by every output column ascending (NULLS LAST),
// which is what sagebox does; SQL leaves tie order open.
// Doubles print as Java does (Athena): 9.0, 0.0464, 1.0E7. Timestamps as
// Athena prints them: 2024-02-01 00:00:00.000.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const DUCK_DIR = resolve(process.env.DUCKDB_DIR ?? 'bench');
const { DuckDBInstance } = createRequire(join(DUCK_DIR, 'package.json'))('@duckdb/node-api');

const SAGEBOX = process.argv[2];
if (!SAGEBOX) {
  process.stderr.write('usage: node tests/e2e/oracle/duckdb_sql.mjs path/to/sagebox\n');
  process.exit(2);
}
const CASES = 'tests/e2e/cases';
// Must match the cases' cmd files.
const DEMO_ARGS = ['demo', '--generate-only', '--formats', 'cur1-snake', '--months', '2',
                   '--start-month', '2024-02', '--seed', '7'];

// The table's columns in `SELECT *` order (sagebox cost sql --columns).
const COLUMNS = [
  ['bill_payer_account_id', 'str'], ['bill_billing_period_start_date', 'ts'],
  ['bill_billing_period_end_date', 'ts'], ['line_item_usage_account_id', 'str'],
  ['line_item_line_item_type', 'str'], ['line_item_usage_start_date', 'ts'],
  ['line_item_usage_end_date', 'ts'], ['line_item_product_code', 'str'],
  ['line_item_usage_type', 'str'], ['line_item_operation', 'str'],
  ['line_item_availability_zone', 'str'], ['line_item_resource_id', 'str'],
  ['line_item_usage_amount', 'dec'], ['line_item_currency_code', 'str'],
  ['line_item_unblended_rate', 'str'], ['line_item_unblended_cost', 'dec'],
  ['line_item_blended_rate', 'str'], ['line_item_blended_cost', 'dec'],
  ['line_item_line_item_description', 'str'], ['line_item_net_unblended_cost', 'dec'],
  ['product_product_name', 'str'], ['product_region', 'str'], ['pricing_term', 'str'],
  ['pricing_public_on_demand_cost', 'dec'], ['reservation_reservation_a_r_n', 'str'],
  ['savings_plan_savings_plan_a_r_n', 'str'], ['savings_plan_savings_plan_effective_cost', 'dec'],
  ['savings_plan_savings_plan_rate', 'dec'], ['savings_plan_total_commitment_to_date', 'dec'],
  ['savings_plan_used_commitment', 'dec'], ['resource_tags_user_project', 'str'],
  ['resource_tags_user_team', 'str'], ['year', 'part'], ['month', 'part'],
];

function q(n) { return '"' + n.replaceAll('"', '""') + '"'; }
function viewSql(glob, present) {
  const cols = COLUMNS.map(([n, k]) => {
    if (k === 'part') return `${q(n)}`;
    if (!present.has(n)) {
      if (n === 'line_item_net_unblended_cost') return `COALESCE(CAST(NULLIF(line_item_unblended_cost, '') AS DECIMAL(38,10)), 0) AS ${q(n)}`;
      return k === 'dec' ? `CAST(0 AS DECIMAL(38,10)) AS ${q(n)}` : `'' AS ${q(n)}`;
    }
    if (k === 'str') return `COALESCE(${q(n)}, '') AS ${q(n)}`;
    if (k === 'dec') return `COALESCE(CAST(NULLIF(${q(n)}, '') AS DECIMAL(38,10)), 0) AS ${q(n)}`;
    return `CAST(replace(replace(${q(n)}, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ${q(n)}`;
  });
  return `CREATE VIEW cur AS SELECT ${cols.join(',\n  ')}
FROM read_csv('${glob}', all_varchar = true, header = true, hive_partitioning = true,
              hive_types_autocast = false)`;
}

// Java's Double.toString layout of a JS number (same shortest digits).
function javaDouble(d) {
  if (Number.isNaN(d)) return 'NaN';
  if (!Number.isFinite(d)) return d > 0 ? 'Infinity' : '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const a = Math.abs(d);
  const [mant, e] = d.toExponential().split('e');
  const exp = Number(e);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  if (a >= 1e-3 && a < 1e7) {
    let s;
    if (exp >= 0) {
      const ip = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const fp = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
      s = ip + '.' + fp;
    } else {
      s = '0.' + '0'.repeat(-exp - 1) + digits;
    }
    return (neg ? '-' : '') + s;
  }
  return (neg ? '-' : '') + digits[0] + '.' + (digits.length > 1 ? digits.slice(1) : '0') + 'E' + exp;
}

function text(v, type) {
  if (v === null || v === undefined) return null;
  if (type === 'DOUBLE') return javaDouble(v);
  if (type === 'TIMESTAMP') {
    const s = v.toString();
    return s.includes('.') ? s : s + '.000';
  }
  return v.toString();
}
function csvField(s) {
  if (s === null) return '';
  return /[,"\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

async function runCsv(con, sql) {
  const r = await con.runAndReadAll(sql);
  const names = r.columnNames();
  const types = r.columnTypes().map((t) => t.toString());
  const lines = [names.map(csvField).join(',')];
  for (const row of r.getRows()) lines.push(row.map((v, i) => csvField(text(v, types[i]))).join(','));
  return lines.join('\n') + '\n';
}

// The articles' three per-resource queries differ in the usage type filter.
function articleQuery(asOf, like, arnAlias, nCols, op = 'RunInstance') {
  return `SELECT
      bill_payer_account_id,
      line_item_usage_account_id,
      line_item_resource_id AS ${arnAlias},
      line_item_usage_type,
      strftime((line_item_usage_start_date),'%Y-%m-%d') AS day_line_item_usage_start_date,
      CAST(SUM(CAST(line_item_usage_amount AS DECIMAL(38,10))) AS DOUBLE) AS sum_line_item_usage_amount,
      line_item_unblended_rate,
      SUM(CAST(line_item_unblended_cost AS DECIMAL(16,8))) AS sum_line_item_unblended_cost,
      line_item_blended_rate,
      SUM(CAST(line_item_blended_cost AS DECIMAL(16,8))) AS sum_line_item_blended_cost,
      line_item_line_item_description,
      line_item_line_item_type
    FROM cur
    WHERE
      line_item_usage_start_date >= date_trunc('month', DATE '${asOf}' - interval '3' month)
      AND line_item_product_code = 'AmazonSageMaker'
      AND line_item_line_item_type IN ('DiscountedUsage', 'Usage', 'SavingsPlanCoveredUsage')
      AND line_item_usage_type like '${like}'
      AND line_item_operation = '${op}'
      AND bill_payer_account_id = '111111111111'
    GROUP BY
      bill_payer_account_id, line_item_usage_account_id, line_item_resource_id,
      line_item_usage_type, line_item_unblended_rate, line_item_blended_rate,
      line_item_line_item_type, strftime((line_item_usage_start_date),'%Y-%m-%d'),
      line_item_line_item_description
    ORDER BY line_item_resource_id, day_line_item_usage_start_date,
      ${Array.from({ length: nCols }, (_, i) => i + 1).join(', ')}`;
}

const AS_OF = '2024-06-10';
const CASE_SQL = {
  sql_article_notebooks: articleQuery(AS_OF, '%Notebk%', 'notebook_arn', 12),
  sql_article_notebooks_legacy_csv: articleQuery(AS_OF, '%Notebk%', 'notebook_arn', 12),
  sql_article_studio_kernelgateway: articleQuery(AS_OF, '%Studio:KernelGateway%', 'studio_notebook_arn', 12),
  sql_article_studio_data_wrangler: articleQuery(AS_OF, '%Studio_DW:KernelGateway%', 'studio_notebook_arn', 12),
  // sagebox demo bills Studio apps under the CreateApp operation.
  sql_article_studio_kernelgateway_createapp:
    articleQuery(AS_OF, '%Studio:KernelGateway%', 'studio_notebook_arn', 12, 'CreateApp'),
  sql_article_studio_data_wrangler_createapp:
    articleQuery(AS_OF, '%Studio_DW:KernelGateway%', 'studio_notebook_arn', 12, 'CreateApp'),
  // sagemakerwrid.sql (upstream), year/month set to the data's.
  sql_library_sagemakerwrid: `SELECT
      bill_payer_account_id,
      line_item_usage_account_id,
      strftime((line_item_usage_start_date),'%Y-%m-%d') as day_line_item_usage_start_date,
      line_item_resource_id,
      line_item_usage_type,
      CAST(SUM(CAST(line_item_usage_amount AS DECIMAL(38,10))) AS DOUBLE) AS sum_line_item_usage_amount,
      SUM(CAST(line_item_unblended_cost AS decimal(16,8))) AS sum_line_item_unblended_cost
    FROM cur
    WHERE year = '2024' AND (month BETWEEN '2' AND '3' OR month BETWEEN '02' AND '03')
      AND line_item_product_code = 'AmazonSageMaker'
      AND line_item_line_item_type NOT IN ('Tax','Credit','Refund','EdpDiscount','Fee','RIFee')
    GROUP BY bill_payer_account_id, line_item_usage_account_id,
      strftime((line_item_usage_start_date),'%Y-%m-%d'), line_item_resource_id, line_item_usage_type
    ORDER BY sum_line_item_unblended_cost DESC, 1, 2, 3, 4, 5, 6, 7`,
};

// The article's SELECT * (fourth query), compared as a row count and a
// SHA-256 of the sorted CSV rows (the full output is megabytes).
const STAR_CASE = 'sql_article_select_star';
const STAR_SQL = `SELECT ${COLUMNS.map(([n]) => q(n)).join(', ')} FROM cur
WHERE line_item_usage_start_date >= date_trunc('month', DATE '2024-05-10' - interval '3' month)
  AND line_item_product_code = 'AmazonSageMaker'
  AND line_item_line_item_type IN ('DiscountedUsage', 'Usage', 'SavingsPlanCoveredUsage')`;

const work = mkdtempSync(join(tmpdir(), 'sagebox-sql-oracle-'));
try {
  execFileSync(resolve(SAGEBOX), [...DEMO_ARGS, '--dir', join(work, 'demo')], { stdio: 'ignore' });
  const glob = join(work, 'demo', 'exports', 'cur1-snake', '*', '*', '*', '*.csv');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const hdr = await con.runAndReadAll(`SELECT * FROM read_csv('${glob}', all_varchar = true, header = true) LIMIT 0`);
  await con.run(viewSql(glob, new Set(hdr.columnNames())));
  for (const [name, sql] of Object.entries(CASE_SQL)) {
    const out = await runCsv(con, sql);
    writeFileSync(join(CASES, name, 'expected_stdout'), out);
    process.stdout.write(`${name}: ${out.split('\n').length - 2} rows\n`);
  }
  const star = await runCsv(con, STAR_SQL);
  const body = star.split('\n').slice(1, -1);
  body.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  const joined = body.map((l) => l + '\n').join('');
  const digest = createHash('sha256').update(joined).digest('hex');
  writeFileSync(join(CASES, STAR_CASE, 'expected_stdout'),
                star.split('\n')[0] + '\n' + `${body.length} ${digest}\n`);
  process.stdout.write(`${STAR_CASE}: ${body.length} rows\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
