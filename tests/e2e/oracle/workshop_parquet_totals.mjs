// workshop_parquet_totals.mjs: DuckDB oracle for the real CUR 1.0 (Athena) Parquet
// files in tests/data/real/wa-labs-workshop-cur/ (AWS Well-Architected Labs).
//
// Writes tests/e2e/oracle/expected/cur1_workshop.{by_type,by_usage_type,by_tag_name}.csv:
// exact sums per month (of line_item_usage_start_date, UTC) x line item type (x usage
// type / x resource_tags_user_name). The files store costs as DOUBLE; each double is
// taken through DuckDB's shortest round-trip text and summed as DECIMAL(38,10),
// i.e. SUM(CAST(CAST(x AS VARCHAR) AS DECIMAL(38,10))): the cost the export wrote,
// not its binary approximation. UnblendedCost, BlendedCost and UsageQuantity only
// (the others are left empty, and compare_totals.py skips empty metrics).
//
// A dev tool; its output is committed. Run from the repository root after
// `cd bench && npm ci`:  node tests/e2e/oracle/workshop_parquet_totals.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'bench/package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run("SET TimeZone='UTC'");
const files = "['tests/data/real/wa-labs-workshop-cur/Oct2018-WorkshopCUR-00001.snappy.parquet', " +
  "'tests/data/real/wa-labs-workshop-cur/Nov2018-WorkshopCUR-00001.snappy.parquet']";
const dec = (c) => `SUM(COALESCE(CAST(CAST(${c} AS VARCHAR) AS DECIMAL(38,10)), 0))`;

async function write(name, extra) {
  const keys = ['line_item_line_item_type', ...extra.map((e) => e[1])];
  const sql = `SELECT strftime(date_trunc('month', line_item_usage_start_date), '%Y-%m-%d') AS "Start",
      strftime(date_trunc('month', line_item_usage_start_date) + INTERVAL 1 MONTH, '%Y-%m-%d') AS "End",
      line_item_line_item_type AS "LINE_ITEM_TYPE",
      ${extra.map(([n, c]) => n.startsWith('TAG:') ? `'${n.slice(4)}$' || COALESCE(${c}, '') AS "${n}"` : `COALESCE(${c}, '') AS "${n}"`).join(', ')}${extra.length ? ',' : ''}
      ${dec('line_item_unblended_cost')} AS u, ${dec('line_item_blended_cost')} AS b,
      ${dec('line_item_usage_amount')} AS q, count(*) AS n
    FROM read_parquet(${files}, union_by_name=true)
    GROUP BY ALL ORDER BY ALL`;
  const rows = (await con.runAndReadAll(sql)).getRows();
  const head = ['Start', 'End', 'LINE_ITEM_TYPE', ...extra.map((e) => e[0]), 'UnblendedCost',
    'BlendedCost', 'NetUnblendedCost', 'AmortizedCost', 'UsageQuantity', 'Rows'];
  const out = [head.join(',')];
  for (const r of rows) {
    const k = r.length - 4;
    out.push([...r.slice(0, k).map(String), String(r[k]), String(r[k + 1]), '', '', String(r[k + 2]),
      String(r[k + 3])].join(','));
  }
  writeFileSync(`tests/e2e/oracle/expected/cur1_workshop.${name}.csv`, out.join('\n') + '\n');
  void keys;
}
await write('by_type', []);
await write('by_usage_type', [['USAGE_TYPE', 'line_item_usage_type']]);
await write('by_tag_name', [['TAG:name', 'resource_tags_user_name']]);
