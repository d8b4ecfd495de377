#!/usr/bin/env node
// duckdb_ingest.mjs: the DuckDB peer for the sagebox ingest benchmark.
//
// Runs
//   CREATE TABLE cur AS SELECT * FROM read_csv([files...], header=true, all_varchar=...)
// on a fresh database and prints what it did, one line of text (or JSON with
// --json). DuckDB sniffs column types by default (all_varchar=false); pass
// --all-varchar to load every column as VARCHAR instead. DuckDB picks the
// compression from the file name (.gz is gunzipped), and runs with its default
// thread count (one per core) unless --threads is given.
//
// Usage:
//   node duckdb_ingest.mjs [--db PATH | --db :memory:] [--all-varchar] [--threads N]
//                          [--json] [--version] FILES...
//
// --db PATH (default: a fresh file under $TMPDIR) is deleted before the load and,
// unless --keep, after it, so every run starts from nothing. The reported
// seconds cover the CTAS statement plus the CHECKPOINT that makes it durable
// (the process wall time, which a caller such as hyperfine measures, also
// includes Node start-up and opening/closing the database).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, version } from '@duckdb/node-api';

function usage(code) {
  process.stderr.write(
    'usage: node duckdb_ingest.mjs [--db PATH|:memory:] [--all-varchar] [--threads N] [--json] [--keep] FILES...\n' +
      '       node duckdb_ingest.mjs --version\n');
  process.exit(code);
}

const args = process.argv.slice(2);
let dbPath = path.join(os.tmpdir(), `sagebox-bench-duckdb-${process.pid}.duckdb`);
let allVarchar = false;
let threads = null;
let json = false;
let keep = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--db') dbPath = args[++i];
  else if (a === '--all-varchar') allVarchar = true;
  else if (a === '--threads') threads = args[++i];
  else if (a === '--json') json = true;
  else if (a === '--keep') keep = true;
  else if (a === '--version') {
    process.stdout.write(`duckdb ${version()}\n`);
    process.exit(0);
  } else if (a === '-h' || a === '--help') usage(0);
  else if (a.startsWith('--')) usage(1);
  else files.push(a);
}
if (files.length === 0) usage(1);
for (const f of files) {
  if (!fs.existsSync(f)) {
    process.stderr.write(`duckdb_ingest: no such file: ${f}\n`);
    process.exit(2);
  }
}

const inMemory = dbPath === ':memory:';
function removeDb() {
  if (inMemory) return;
  for (const suffix of ['', '.wal', '.tmp']) fs.rmSync(dbPath + suffix, { recursive: true, force: true });
}

removeDb();
const options = {};
if (threads !== null) options.threads = String(threads);
const instance = await DuckDBInstance.create(inMemory ? ':memory:' : dbPath, options);
const conn = await instance.connect();

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;
const list = `[${files.map((f) => sqlString(path.resolve(f))).join(', ')}]`;
const sql = `CREATE TABLE cur AS SELECT * FROM read_csv(${list}, header=true, all_varchar=${allVarchar})`;

const settings = (await conn.runAndReadAll(
  "SELECT current_setting('threads')::VARCHAR, current_setting('memory_limit')::VARCHAR")).getRows()[0];

const t0 = process.hrtime.bigint();
await conn.run(sql);
if (!inMemory) await conn.run('CHECKPOINT');
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

const rows = Number((await conn.runAndReadAll('SELECT count(*) FROM cur')).getRows()[0][0]);
const columns = Number((await conn.runAndReadAll(
  "SELECT count(*) FROM information_schema.columns WHERE table_name = 'cur'")).getRows()[0][0]);
const varcharColumns = Number((await conn.runAndReadAll(
  "SELECT count(*) FROM information_schema.columns WHERE table_name = 'cur' AND data_type = 'VARCHAR'")).getRows()[0][0]);
let dbBytes = 0;
conn.closeSync();
instance.closeSync();
if (!inMemory) {
  for (const suffix of ['', '.wal']) {
    try { dbBytes += fs.statSync(dbPath + suffix).size; } catch { /* absent */ }
  }
  if (!keep) removeDb();
}

const result = {
  duckdb: version(),
  threads: Number(settings[0]),
  memory_limit: settings[1],
  db: inMemory ? ':memory:' : dbPath,
  all_varchar: allVarchar,
  files: files.length,
  rows,
  columns,
  varchar_columns: varcharColumns,
  seconds,
  db_bytes: dbBytes,
};
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  process.stdout.write(
    `duckdb ${result.duckdb} threads=${result.threads} db=${result.db} all_varchar=${allVarchar}: ` +
      `${rows} rows, ${columns} columns (${varcharColumns} VARCHAR) from ${files.length} file(s) ` +
      `in ${seconds.toFixed(3)} s (CTAS${inMemory ? '' : ' + CHECKPOINT'}); db ${dbBytes} bytes\n`);
}
