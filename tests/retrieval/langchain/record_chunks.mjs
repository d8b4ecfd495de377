// Records the chunk lists that LangChain's text splitters produce for a set of inputs and
// settings, as golden data for src/retrieval/splitter_test.cc. Run once, commit the JSON:
//
//   cd tests/retrieval/langchain && npm ci && node record_chunks.mjs
//
// writes tests/data/retrieval/langchain_chunks/{corpus,edge_cases}.json. The C++ tests only read
// the JSON; they never need npm.
//
// The reference is Python LangChain (langchain_text_splitters, base.py and character.py), which
// the articles use; Python packages cannot be installed here, so the chunks come from
// LangChain.js (@langchain/textsplitters, pinned in package-lock.json). The two ports differ in
// a few places, listed in DIFFERENCES below. Every case is run twice: by the stock LangChain.js
// splitter, and by the same splitter with those places replaced by Python's behaviour (the
// Py* overrides below, each a transcription of the Python source named in its comment). When
// both agree, `chunks` is LangChain.js's output. When they disagree, `chunks` is the Python
// behaviour, `langchain_js_chunks` keeps what LangChain.js said, and `python_differs` names the
// overrides that change the result, so the test can show that sagebox follows Python there.
//
// `start_index` is what Python's create_documents(add_start_index=True) stores for each chunk:
// LangChain.js has no such option (it records line numbers instead), so the recorder applies
// Python's formula (base.py, TextSplitter.create_documents):
//     offset = index + previous_chunk_len - chunk_overlap
//     index = text.find(chunk, max(0, offset))
// Offsets are in code points, as Python's str indexes; the inputs are BMP-only, where
// JavaScript's UTF-16 indexes are the same numbers (checked below).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  CharacterTextSplitter,
  RecursiveCharacterTextSplitter,
} from "@langchain/textsplitters";

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, "..", "..", "data", "retrieval");
const outDir = join(dataDir, "langchain_chunks");
const require = createRequire(import.meta.url);
const jsVersion = require("@langchain/textsplitters/package.json").version;

// DIFFERENCES between LangChain.js 1.0.2 and Python langchain_text_splitters (1.x):
// 1. split: with keep_separator, Python re.split()s on the separator (non-overlapping matches,
//    each consumed), JS splits on the lookahead (?=sep), which matches overlapping occurrences:
//    "a\n\n\nb" on "\n\n" is ["a", "\n\n\nb"] in Python, ["a", "\n", "\n\nb"] in JS.
// 2. merge: when a chunk is emitted, Python pops splits from the front while `total` (the
//    splits' lengths *plus the separators between them*) exceeds chunk_overlap; JS's total
//    leaves the separators out, so with a non-empty merge separator (keep_separator false, e.g.
//    CharacterTextSplitter) JS can keep one more split of overlap.
// 3. strip: Python's str.strip() removes Unicode whitespace including U+001C..U+001F and U+0085;
//    JS's trim() does not, and it removes U+FEFF, which Python keeps.
// 4. settings: JS refuses chunk_overlap == chunk_size ("Cannot have chunkOverlap >= chunkSize");
//    Python accepts it and only refuses overlap > size (and, since 0.3.x, size <= 0 or
//    overlap < 0). Such settings are tested by hand in splitter_test.cc, not recorded here.
// 5. lengths: Python's len() counts code points, JS's .length UTF-16 units, and Python's
//    list(text) splits into code points where JS's split("") cuts surrogate pairs. The
//    recorded inputs are BMP-only; astral text is tested by hand in splitter_test.cc.
// 6. recursion: JS recurses into a too-long split when the separator found was the last one
//    (newSeparators is [] and [] is truthy in JS), Python keeps the split whole. Only custom
//    separator lists without a final "" reach this; none is recorded.
// 7. offsets: see start_index above (JS has no add_start_index).

// Python's whitespace for str.strip(): str.isspace() code points (Unicode White_Space plus
// the bidi classes B, S, WS), as CPython's _PyUnicode_IsWhitespace lists them.
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
  0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
  0x2029, 0x202f, 0x205f, 0x3000,
]);
function pyStrip(s) {
  let b = 0;
  let e = s.length;
  while (b < e && PY_SPACE.has(s.charCodeAt(b))) b++;
  while (e > b && PY_SPACE.has(s.charCodeAt(e - 1))) e--;
  return s.slice(b, e);
}

// character.py _split_text_with_regex, for a literal separator and keep_separator true
// ("start"): re.split(f"({sep})") then splits_[0] + [sep_i + text_i ...], empties dropped.
function pySplit(text, separator, keep) {
  if (!separator) return [...text].filter((s) => s !== "");
  if (!keep) return text.split(separator).filter((s) => s !== "");
  const parts = text.split(separator); // non-overlapping, left to right, like re.split
  const out = [parts[0]];
  for (let i = 1; i < parts.length; i++) out.push(separator + parts[i]);
  return out.filter((s) => s !== "");
}

// base.py TextSplitter._merge_splits, line by line.
function pyMerge(self, splits, separator, strip) {
  const sepLen = separator.length;
  const docs = [];
  let current = [];
  let total = 0;
  const join = (ds) => {
    const t = strip(ds.join(separator));
    return t === "" ? null : t;
  };
  for (const d of splits) {
    const len = d.length;
    if (total + len + (current.length > 0 ? sepLen : 0) > self.chunkSize) {
      if (current.length > 0) {
        const doc = join(current);
        if (doc !== null) docs.push(doc);
        while (
          total > self.chunkOverlap ||
          (total + len + (current.length > 0 ? sepLen : 0) > self.chunkSize && total > 0)
        ) {
          total -= current[0].length + (current.length > 1 ? sepLen : 0);
          current = current.slice(1);
        }
      }
    }
    current.push(d);
    total += len + (current.length > 1 ? sepLen : 0);
  }
  const doc = join(current);
  if (doc !== null) docs.push(doc);
  return docs;
}

// A splitter class with some of Python's behaviours swapped in.
function withPython(Base, { split = false, merge = false, strip = false }) {
  return class extends Base {
    splitOnSeparator(text, separator) {
      return split ? pySplit(text, separator, this.keepSeparator) : super.splitOnSeparator(text, separator);
    }
    joinDocs(docs, separator) {
      if (!strip) return super.joinDocs(docs, separator);
      const t = pyStrip(docs.join(separator));
      return t === "" ? null : t;
    }
    async mergeSplits(splits, separator) {
      if (!merge) return super.mergeSplits(splits, separator);
      return pyMerge(this, splits, separator, strip ? pyStrip : (s) => s.trim());
    }
  };
}

function make(Base, c) {
  const fields = { chunkSize: c.chunk_size, chunkOverlap: c.chunk_overlap, keepSeparator: c.keep_separator };
  if (c.splitter === "character") fields.separator = c.separator;
  else fields.separators = c.separators;
  return new Base(fields);
}

async function run(c, text) {
  const Base = c.splitter === "character" ? CharacterTextSplitter : RecursiveCharacterTextSplitter;
  const js = await make(Base, c).splitText(text);
  const py = await make(withPython(Base, { split: true, merge: true, strip: true }), c).splitText(text);
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (same(js, py)) return { chunks: js };
  const because = [];
  for (const which of ["split", "merge", "strip"]) {
    const one = await make(withPython(Base, { [which]: true }), c).splitText(text);
    if (!same(one, js)) because.push(which);
  }
  return { chunks: py, langchain_js_chunks: js, python_differs: because };
}

// base.py create_documents(add_start_index=True).
function startIndexes(text, chunks, overlap) {
  let index = 0;
  let previousLen = 0;
  return chunks.map((chunk) => {
    const offset = index + previousLen - overlap;
    index = text.indexOf(chunk, Math.max(0, offset));
    previousLen = chunk.length;
    return index;
  });
}

function checkBmp(name, text) {
  for (const ch of text) {
    if (ch.codePointAt(0) > 0xffff) throw new Error(`${name}: astral code point; JS and Python count it differently`);
  }
}

const ARTICLE = ["\n\n", "\n", " ", ""];
const rec = (chunk_size, chunk_overlap, extra = {}) => ({
  splitter: "recursive", separators: ARTICLE, keep_separator: true, chunk_size, chunk_overlap, ...extra,
});
const chr = (separator, chunk_size, chunk_overlap, extra = {}) => ({
  splitter: "character", separator, keep_separator: false, chunk_size, chunk_overlap, ...extra,
});

const corpusFiles = ["using_sklearn.rst", "amazon_sagemaker_featurestore.rst", "v2.rst", "using_djl.rst"];
const corpusSettings = [
  ["rag_article", rec(600, 20)], // the RAG article's ingest
  ["docs_article", chr("\n", 1000, 100)], // the docs article
  ["recursive_200_50", rec(200, 50)],
  ["recursive_no_keep_300_30", rec(300, 30, { keep_separator: false })],
  ["character_default_400_80", chr("\n\n", 400, 80)],
];

const edgeCases = [
  ["empty", rec(10, 2), ""],
  ["only_spaces", rec(3, 1), "      "],
  ["only_newlines", rec(3, 0), "\n\n\n\n\n"],
  ["size_1_overlap_0", rec(1, 0), "ab c\nd"],
  ["size_2_overlap_1", rec(2, 1), "abc de\nf"],
  ["size_3_overlap_1", rec(3, 1), "hello world foo bar"],
  ["overlap_half", rec(10, 5), "The quick brown fox jumps over the lazy dog and keeps running far away."],
  ["overlap_big", rec(12, 11), "one two three four five six seven eight nine ten"],
  ["no_separator_recursive", rec(5, 2), "abcdefghijklmnopqrstuvwxyz"],
  ["no_separator_character", chr("\n", 5, 2), "abcdefghijklmnopqrstuvwxyz"],
  ["long_word", rec(10, 3), "short supercalifragilisticexpialidocious words here"],
  ["long_word_character", chr(" ", 10, 3), "short supercalifragilisticexpialidocious words here"],
  ["whitespace_runs", rec(4, 1), "a  b   c\t\td\n\ne   \n  f"],
  ["paragraphs", rec(30, 5), "First paragraph here.\n\nSecond one is a bit longer than that.\n\nThird.\nWith a line."],
  ["repeated_text", rec(8, 4), "la la la la la la la la la la la la"],
  ["accented", rec(8, 2), "Café déjà vu naïve façade résumé coöperate"],
  ["accented_chars", rec(3, 1), "éèêëàâ"],
  ["cjk", rec(5, 1), "日本語のテキストを分割します。これは二番目の文です。\n\n第三段落。"],
  ["cjk_character", chr("。", 10, 2), "日本語のテキストを分割します。これは二番目の文です。第三段落。最後"],
  ["mixed_scripts", rec(12, 3), "Ελληνικά κείμενο, русский текст и 中文文本 mixed together."],
  ["nbsp_edges", rec(6, 0), "\u00a0\u00a0word\u00a0 another\u00a0\u00a0 x"],
  ["character_blank_lines", chr("\n", 3, 1), "a\n\nb\nc\n\n\nd"],
  ["character_keep", chr("\n", 6, 2, { keep_separator: true }), "ab\ncd\nef\ngh\nij"],
  ["character_empty_separator", chr("", 4, 1), "abcdefghij"],
  ["recursive_no_keep", rec(6, 2, { keep_separator: false }), "aa bb cc\ndd ee\n\nff gg"],
  ["custom_separators", rec(10, 0, { separators: [". ", ", ", " ", ""] }), "One, two, three. Four five six seven. Eight, nine."],
  // Cases that show where LangChain.js and Python differ (recorded with Python's result).
  ["newline_runs", rec(6, 0), "ab\n\n\ncd\n\n\n\nef"],
  ["newline_runs_split", rec(4, 2), "a\n\n\nb\n"],
  ["character_overlap_separators", chr(" ", 7, 3), "a b c d e f g h"],
  ["python_only_whitespace", rec(4, 0), "ab\u0085 \u001ccd\u001f"],
  ["bom_not_space_in_python", rec(4, 0), "\ufeffab cd\ufeff"],
];

async function record(cases) {
  const out = [];
  for (const [name, settings, text, inputFile] of cases) {
    checkBmp(name, text);
    const r = await run(settings, text);
    const entry = { name, ...settings };
    if (inputFile) entry.input_file = inputFile;
    else entry.text = text;
    entry.chunks = r.chunks;
    entry.start_index = startIndexes(text, r.chunks, settings.chunk_overlap);
    if (r.langchain_js_chunks) {
      entry.langchain_js_chunks = r.langchain_js_chunks;
      entry.python_differs = r.python_differs;
    }
    out.push(entry);
    const note = r.python_differs ? ` (Python differs: ${r.python_differs.join(", ")})` : "";
    console.log(`${name}: ${r.chunks.length} chunks${note}`);
  }
  return out;
}

function write(file, cases) {
  const doc = {
    generator: `@langchain/textsplitters ${jsVersion} (LangChain.js) via tests/retrieval/langchain/record_chunks.mjs`,
    reference: "Python langchain_text_splitters; see DIFFERENCES in record_chunks.mjs",
    cases,
  };
  writeFileSync(join(outDir, file), JSON.stringify(doc, null, 1) + "\n");
}

mkdirSync(outDir, { recursive: true });
const corpusCases = [];
for (const f of corpusFiles) {
  const rel = `corpus/${f}`;
  const text = readFileSync(join(dataDir, rel), "utf8");
  for (const [tag, settings] of corpusSettings) corpusCases.push([`${f}/${tag}`, settings, text, rel]);
}
write("corpus.json", await record(corpusCases));
write("edge_cases.json", await record(edgeCases.map(([n, s, t]) => [n, s, t])));
