// The Ask tab: questions over a knowledge base made by `sagebox rag ingest`, the Streamlit
// chat of the rag article (spec rag.md) as a page of this app (`#/rag/chat?index=NAME`).
// API (docs/rag.md): GET /api/rag/indexes, POST /api/rag/ask, POST /api/rag/feedback,
// GET /api/rag/questions. Each answer's sentences end with citation markers " [n]" for
// sources[n-1]: the markers become buttons that open the passage, as do the listed sources;
// opening one posts `source:<chunk_id>` feedback, thumbs post `up`/`down`.
// The turns of this browser tab's conversation live in sessionStorage (they survive a
// reload, not a new tab); the transcript downloads as Markdown or JSON from them.
// Everything the server sends is untrusted text: it only ever reaches the DOM as text nodes.
import { getJson, postJson, probeList } from './api.js';
import { begin, fail, h, option, publish, ready } from './ui.js';

const INGEST_HINT = 'sagebox rag ingest NAME PATH...';
export const TURNS_KEY = 'sagebox.rag.turns';
// sessionStorage holds a few MB; each turn carries its passages, so keep the newest ones.
const MAX_TURNS = 50;
const RECENT_LIMIT = 10;
const MODES = ['auto', 'bm25', 'dense', 'hybrid'];

// ---- the conversation, kept in sessionStorage ---------------------------------------------
// A turn: { answer: the /api/rag/ask body, vote: 'up'|'down'|null, opened: [chunk_id] }.
export function loadTurns() {
  try {
    const t = JSON.parse(sessionStorage.getItem(TURNS_KEY) || '[]');
    return Array.isArray(t) ? t.filter((x) => x && x.answer && typeof x.answer.question === 'string') : [];
  } catch {
    return []; // an unreadable entry (another version of the page): start afresh
  }
}

function saveTurns(turns) {
  let keep = turns.slice(-MAX_TURNS);
  // over quota: drop the oldest turns until it fits (the page still shows them until reload)
  while (keep.length) {
    try {
      sessionStorage.setItem(TURNS_KEY, JSON.stringify(keep));
      return;
    } catch {
      keep = keep.slice(1);
    }
  }
  sessionStorage.removeItem(TURNS_KEY);
}

// ---- formatting ------------------------------------------------------------------------------
// "12.3 ms"; the API gives milliseconds as a number.
export function formatLatency(ms) {
  const v = Number(ms);
  if (!Number.isFinite(v)) return '—';
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v.toFixed(1)} ms`;
  return `${(v / 1000).toFixed(2)} s`;
}

// cost_usd is a decimal string ("0" for the extractive answerer) or null when unknown.
export const formatCost = (c) => (c === null || c === undefined ? 'cost unknown' : `$${c}`);
export const formatScore = (s) => (Number.isFinite(Number(s)) ? Number(s).toFixed(4) : '—');
const pageText = (p) => (p > 0 ? `p. ${p}` : '');

// The answer text split at its citation markers: [{text}|{n}] in order. Only markers that
// name one of the `count` sources become citations; anything else stays text.
export function splitCitations(text, count) {
  const parts = [];
  const re = /\[(\d+)\]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    if (n < 1 || n > count) continue;
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ n });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

// ---- the transcript --------------------------------------------------------------------------
// Server text goes into the Markdown so that no viewer renders it as markup: prose with its
// `\`, `<` and `&` backslash-escaped (CommonMark: no raw HTML, no entities), paths as code
// spans and passages as fenced code blocks, each fence longer than any backtick run inside.
export const mdText = (s) => String(s ?? '').replace(/[\\<&]/g, '\\$&');
const longestTicks = (s) => Math.max(0, ...(String(s).match(/`+/g) || []).map((r) => r.length));
export function mdCode(s) {
  const t = '`'.repeat(longestTicks(s) + 1);
  const pad = /^`|`$/.test(s) ? ' ' : '';
  return `${t}${pad}${s}${pad}${t}`;
}
export function mdFence(s) {
  const t = '`'.repeat(Math.max(3, longestTicks(s) + 1));
  return `${t}text\n${s}\n${t}`;
}

export function transcriptMarkdown(turns, now = new Date()) {
  const out = ['# sagebox rag transcript', '', `Exported ${now.toISOString()}, ${turns.length} question${turns.length === 1 ? '' : 's'}.`, ''];
  turns.forEach((t, i) => {
    const a = t.answer;
    out.push(`## ${i + 1}. ${mdText(a.question.replace(/\s+/g, ' '))}`, ''); // one line: a heading
    out.push(`Index ${mdCode(a.index)}, ${mdText(a.mode)} retrieval, ${mdText(a.provider)}, ${formatLatency(a.latency_ms)}, ${mdText(formatCost(a.cost_usd))}${t.vote ? `, feedback: ${t.vote}` : ''} (question ${a.id})`, '');
    out.push('**Answer**', '', a.answer ? mdText(a.answer) : '(no answer)', '');
    if (!(a.sources || []).length) {
      out.push('No sources matched.', '');
      return;
    }
    out.push('**Sources**', '');
    for (const s of a.sources) {
      const where = [mdCode(s.source), s.page > 0 ? `page ${s.page}` : null, `score ${formatScore(s.score)}`].filter(Boolean).join(', ');
      out.push(`[${s.n}] ${s.title ? `${mdText(s.title)}: ` : ''}${where}`, '', mdFence(s.passage), '');
    }
  });
  return out.join('\n');
}

export function transcriptJson(turns, now = new Date()) {
  return JSON.stringify({ exported: now.toISOString(), turns: turns.map((t) => ({ ...t.answer, feedback: t.vote || null, opened: t.opened || [] })) }, null, 2);
}

function saveFile(text, type, filename) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

const stamp = (d) => d.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');

// ---- the module -------------------------------------------------------------------------------
// load(): whether this server answers /api/rag at all (a 404 is an answer, not an error).
export const loadRagModule = () => probeList('/api/rag/indexes', 'indexes');

export function ragStatus(ctx) {
  if (!ctx || !ctx.available) return 'no rag API on this server';
  return `${ctx.count} knowledge base${ctx.count === 1 ? '' : 's'}`;
}

// The shown page; null when the tab is not shown (answers arriving later are still kept).
let live = null;

export function leaveRag() {
  if (live) live.alive = false;
  live = null;
}

function none(main, ...message) {
  main.replaceChildren(h('section', { class: 'view', 'data-testid': 'view-rag' }, h('div', { class: 'empty', 'data-testid': 'rag-none' }, ...message)));
  publish('rag', null, null, { rag: { index: null, turns: loadTurns().length } });
}

export async function showRag({ main, params, navigate, ctx }) {
  leaveRag();
  const isCurrent = begin();
  if (ctx && !ctx.available) {
    none(main, h('p', {}, 'This server does not answer questions (no /api/rag).'), h('p', {}, 'Start it with ', h('code', {}, 'sagebox serve'), ' from a build that has the rag module.'));
    ready(isCurrent);
    return;
  }
  let indexes;
  try {
    indexes = (await getJson('/api/rag/indexes')).indexes || [];
  } catch (err) {
    fail(isCurrent, err);
    return;
  }
  if (!isCurrent()) return;
  const meta = document.getElementById('meta');
  if (meta) meta.textContent = ragStatus({ available: true, count: indexes.length });
  if (!indexes.length) {
    none(main, h('p', {}, 'No knowledge base yet.'), h('p', {}, 'Make one with ', h('code', {}, INGEST_HINT), ' (HTML, Markdown, text or PDF files), then reload this page.'));
    ready(isCurrent);
    return;
  }
  const wanted = params.get('index');
  const ix = indexes.find((x) => x.name === wanted) || indexes[0];
  const me = { alive: true, index: ix.name, turns: loadTurns(), waiting: false };
  live = me;
  new ChatView(me, main, indexes, ix, navigate).render();
  ready(isCurrent);
}

class ChatView {
  constructor(me, main, indexes, ix, navigate) {
    this.me = me;
    this.main = main;
    this.indexes = indexes;
    this.ix = ix;
    this.navigate = navigate;
  }

  render() {
    const { ix } = this;
    const picker = h('select', {
      'data-testid': 'rag-index',
      'aria-label': 'Knowledge base',
      onchange: () => this.navigate(`#/rag/chat?${new URLSearchParams({ index: picker.value })}`),
    }, this.indexes.map((x) => option(x.name, x.name, x.name === ix.name)));
    this.mode = h('select', { 'data-testid': 'rag-mode', 'aria-label': 'Retrieval' }, MODES.map((m) => option(m, m, m === 'auto')));
    this.k = h('input', { type: 'number', min: '1', max: '50', value: '5', 'data-testid': 'rag-k', 'aria-label': 'Sources', class: 'rag-k' });
    const about = `${ix.documents} document${ix.documents === 1 ? '' : 's'}, ${ix.chunks} chunks, ${ix.embedder ? `embedder ${ix.embedder}` : 'BM25 only'}`;
    this.md = h('button', { type: 'button', 'data-testid': 'rag-download-md', onclick: () => this.download('md') }, 'Transcript (.md)');
    this.json = h('button', { type: 'button', 'data-testid': 'rag-download-json', onclick: () => this.download('json') }, '.json');
    this.clear = h('button', { type: 'button', 'data-testid': 'rag-clear', onclick: () => this.clearTurns() }, 'Clear');
    const controls = h('div', { class: 'controls' },
      h('label', {}, 'Knowledge base ', picker),
      h('span', { class: 'muted small', 'data-testid': 'rag-index-about' }, about),
      h('label', {}, 'Retrieval ', this.mode),
      h('label', {}, 'Sources ', this.k),
      h('span', { class: 'spacer' }),
      this.md, this.json, this.clear);

    this.log = h('div', { class: 'rag-log', 'data-testid': 'rag-turns', 'aria-live': 'polite' });
    this.question = h('textarea', {
      rows: '2',
      placeholder: `Ask a question about ${ix.name}… (Enter sends, Shift+Enter for a new line)`,
      'aria-label': 'Question',
      'data-testid': 'rag-question',
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.ask();
        }
      },
    });
    this.send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'rag-send' }, 'Ask');
    this.askError = h('div', { class: 'rag-error', role: 'alert', 'data-testid': 'rag-ask-error', hidden: true });
    const form = h('form', { class: 'rag-ask', 'data-testid': 'rag-form', onsubmit: (e) => { e.preventDefault(); this.ask(); } }, this.question, this.send);

    this.panel = h('aside', { class: 'rag-passage', 'data-testid': 'rag-passage', hidden: true, 'aria-label': 'Passage' });
    this.recent = h('ol', { class: 'rag-recent', 'data-testid': 'rag-recent' });
    const side = h('div', { class: 'rag-side' }, this.panel,
      h('section', { class: 'rag-recent-box' }, h('h3', {}, 'Recent questions'), this.recent));

    this.main.replaceChildren(h('section', { class: 'view rag', 'data-testid': 'view-rag' }, controls,
      h('div', { class: 'rag-cols' }, h('div', { class: 'rag-chat' }, this.log, this.askError, form), side)));
    this.renderTurns();
    this.loadRecent();
    this.question.focus();
  }

  publish() {
    publish('rag', null, { index: this.ix.name }, {
      rag: {
        index: this.ix.name,
        turns: this.me.turns.length,
        waiting: this.me.waiting,
        last: this.me.turns.length ? this.me.turns[this.me.turns.length - 1].answer : null,
      },
    });
  }

  renderTurns() {
    const turns = this.me.turns;
    this.log.replaceChildren(...(turns.length
      ? turns.map((t, i) => this.turnNode(t, i))
      : [h('p', { class: 'muted rag-hello', 'data-testid': 'rag-hello' }, `Ask anything about the ${this.ix.documents} document${this.ix.documents === 1 ? '' : 's'} in ${this.ix.name}; answers cite their sources.`)]));
    const empty = turns.length === 0;
    this.md.disabled = empty;
    this.json.disabled = empty;
    this.clear.disabled = empty;
    this.publish();
  }

  turnNode(t, i) {
    const a = t.answer;
    const sources = a.sources || [];
    const open = (s) => this.openSource(t, s);
    const body = h('p', { class: 'rag-answer-text', 'data-testid': 'answer-text' }, splitCitations(a.answer || '', sources.length).map((p) =>
      p.text !== undefined ? p.text : h('button', { type: 'button', class: 'cite', 'data-testid': 'cite', 'data-n': String(p.n), title: sources[p.n - 1].source, onclick: () => open(sources[p.n - 1]) }, `[${p.n}]`)));
    const list = sources.length
      ? h('ol', { class: 'rag-sources', 'data-testid': 'sources' }, sources.map((s) =>
        h('li', { 'data-testid': 'source', 'data-n': String(s.n), 'data-chunk-id': s.chunk_id, class: (t.opened || []).includes(s.chunk_id) ? 'opened' : null },
          h('span', { class: 'src-n', 'data-testid': 'source-n' }, `[${s.n}]`),
          h('button', { type: 'button', class: 'src-open linkish', 'data-testid': 'source-open', title: 'Show the passage', onclick: () => open(s) },
            s.title ? h('span', { class: 'src-title', 'data-testid': 'source-title' }, s.title) : null,
            h('span', { class: 'src-path', 'data-testid': 'source-path' }, s.source)),
          h('span', { class: 'src-page muted', 'data-testid': 'source-page', 'data-page': String(s.page ?? 0) }, pageText(s.page)),
          h('span', { class: 'src-score muted', 'data-testid': 'source-score', 'data-score': String(s.score) }, formatScore(s.score)))))
      : h('p', { class: 'muted small', 'data-testid': 'no-sources' }, `Nothing in ${a.index} matches this question.`);
    const status = h('span', { class: 'small rag-vote-status', 'data-testid': 'vote-status', role: 'status' }, t.vote ? `Feedback recorded: ${t.vote === 'up' ? 'helpful' : 'not helpful'}` : '');
    const vote = (v, label, glyph) => h('button', {
      type: 'button',
      class: `vote${t.vote === v ? ' on' : ''}`,
      'data-testid': `vote-${v}`,
      'aria-pressed': t.vote === v ? 'true' : 'false',
      title: label,
      'aria-label': label,
      onclick: (e) => this.vote(t, v, e.currentTarget.parentElement, status),
    }, glyph);
    return h('article', { class: 'rag-turn', 'data-testid': 'turn', 'data-id': String(a.id), 'data-index': a.index },
      h('div', { class: 'rag-q', 'data-testid': 'turn-question' }, a.question),
      h('div', { class: 'rag-a' },
        body,
        list,
        h('div', { class: 'rag-meta muted small' },
          h('span', { 'data-testid': 'answer-meta', 'data-provider': a.provider, 'data-latency-ms': String(a.latency_ms), 'data-cost': a.cost_usd ?? '' },
            `${a.provider} · ${a.mode} · ${formatLatency(a.latency_ms)} · ${formatCost(a.cost_usd)}${a.index !== this.ix.name ? ` · ${a.index}` : ''}`),
          h('span', { class: 'votes' }, vote('up', 'Helpful', '▲ Helpful'), vote('down', 'Not helpful', '▼ Not helpful')),
          status)),
      h('span', { class: 'muted small rag-turn-n' }, `#${i + 1}`));
  }

  // Shows the passage of source `s` (of turn `t`) and tells the server it was opened.
  openSource(t, s) {
    const a = t.answer;
    this.panel.replaceChildren(
      h('div', { class: 'rag-passage-head' },
        h('strong', { 'data-testid': 'passage-n' }, `[${s.n}]`), ' ',
        h('span', { 'data-testid': 'passage-title' }, s.title || s.source),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close the passage', 'data-testid': 'passage-close', onclick: () => { this.panel.hidden = true; } }, '×')),
      h('div', { class: 'muted small' },
        h('span', { 'data-testid': 'passage-source' }, s.source),
        s.page > 0 ? h('span', { 'data-testid': 'passage-page' }, ` · page ${s.page}`) : null,
        ` · score ${formatScore(s.score)} · `, h('span', { 'data-testid': 'passage-chunk' }, s.chunk_id)),
      h('div', { class: 'muted small' }, 'For: ', h('em', {}, a.question)),
      h('blockquote', { class: 'rag-passage-text', 'data-testid': 'passage-text' }, s.passage));
    this.panel.dataset.chunkId = s.chunk_id;
    this.panel.dataset.questionId = String(a.id);
    this.panel.hidden = false;
    t.opened = t.opened || [];
    if (t.opened.includes(s.chunk_id)) return; // told the server already
    t.opened.push(s.chunk_id);
    saveTurns(this.me.turns);
    for (const li of this.log.querySelectorAll(`[data-testid=turn][data-id="${CSS.escape(String(a.id))}"] [data-testid=source]`)) {
      if (li.dataset.chunkId === s.chunk_id) li.classList.add('opened');
    }
    postJson('/api/rag/feedback', { id: a.id, feedback: `source:${s.chunk_id}` })
      .then(() => this.loadRecent())
      .catch((err) => this.say(`Could not record that source ${s.n} was opened: ${err.message}`));
  }

  async vote(t, v, box, status) {
    const buttons = box.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    status.textContent = 'Sending…';
    try {
      await postJson('/api/rag/feedback', { id: t.answer.id, feedback: v });
      t.vote = v;
      saveTurns(this.me.turns);
      status.textContent = `Feedback recorded: ${v === 'up' ? 'helpful' : 'not helpful'}`;
      for (const b of buttons) {
        const on = b.dataset.testid === `vote-${v}`;
        b.classList.toggle('on', on);
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
      }
      this.loadRecent();
    } catch (err) {
      status.textContent = '';
      this.say(`Feedback not recorded: ${err.message}`);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  say(text) {
    this.askError.textContent = text;
    this.askError.hidden = !text;
  }

  async ask() {
    const me = this.me;
    const q = this.question.value.trim();
    if (!q || me.waiting) return;
    const k = Number(this.k.value);
    if (!Number.isInteger(k) || k < 1 || k > 50) {
      this.say('Sources: a whole number from 1 to 50.');
      return;
    }
    this.say('');
    me.waiting = true;
    this.question.disabled = true;
    this.send.disabled = true;
    this.send.textContent = 'Asking…';
    const pending = h('article', { class: 'rag-turn pending', 'data-testid': 'turn-pending' }, h('div', { class: 'rag-q' }, q), h('div', { class: 'rag-a muted' }, 'Searching and answering…'));
    this.log.append(pending);
    pending.scrollIntoView({ block: 'end' });
    this.publish();
    let answer = null;
    try {
      answer = await postJson('/api/rag/ask', { index: this.ix.name, question: q, k, mode: this.mode.value });
      if (!answer || typeof answer.answer !== 'string' || !Array.isArray(answer.sources)) throw new Error('the server answered without an answer and sources');
    } catch (err) {
      answer = null;
      if (me.alive) this.say(`${err.code && err.code !== 'Error' ? `${err.code}: ` : ''}${err.message}`);
    }
    me.waiting = false;
    if (answer) {
      me.turns.push({ answer, vote: null, opened: [] });
      saveTurns(me.turns);
    }
    if (!me.alive) return; // left the tab: the turn is kept for the next visit
    pending.remove();
    this.question.disabled = false;
    this.send.disabled = false;
    this.send.textContent = 'Ask';
    if (answer) {
      this.question.value = '';
      this.renderTurns();
      this.log.lastElementChild.scrollIntoView({ block: 'nearest' });
      this.loadRecent();
    } else {
      this.publish();
    }
    this.question.focus();
  }

  async loadRecent() {
    const me = this.me;
    let qs;
    try {
      qs = (await getJson('/api/rag/questions', { index: this.ix.name, limit: RECENT_LIMIT })).questions || [];
    } catch (err) {
      if (me.alive) this.recent.replaceChildren(h('li', { class: 'error-inline' }, `Could not load them: ${err.message}`));
      return;
    }
    if (!me.alive) return;
    this.recent.replaceChildren(...(qs.length
      ? qs.map((q) => h('li', { 'data-testid': 'recent', 'data-id': String(q.id), 'data-feedback': q.feedback ?? '' },
        h('button', { type: 'button', class: 'linkish', title: 'Ask again', onclick: () => { this.question.value = q.question; this.question.focus(); } }, q.question),
        h('span', { class: 'muted small' }, ` ${new Date(q.asked_unix_us / 1000).toLocaleString()}`,
          q.feedback ? ` · ${q.feedback === 'up' ? 'helpful' : q.feedback === 'down' ? 'not helpful' : 'source opened'}` : '')))
      : [h('li', { class: 'muted' }, 'None yet.')]));
    this.recent.dataset.loaded = String(Date.now());
  }

  download(kind) {
    const now = new Date();
    const base = `sagebox-rag-${this.ix.name}-${stamp(now)}`;
    if (kind === 'md') saveFile(transcriptMarkdown(this.me.turns, now), 'text/markdown;charset=utf-8', `${base}.md`);
    else saveFile(transcriptJson(this.me.turns, now), 'application/json', `${base}.json`);
  }

  clearTurns() {
    this.me.turns = [];
    sessionStorage.removeItem(TURNS_KEY);
    this.panel.hidden = true;
    this.renderTurns();
  }
}
