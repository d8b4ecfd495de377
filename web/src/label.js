// The Label tab: the human-feedback quality loop of `sagebox label` (spec label.md,
// "Interfaces"; API in src/label/api/routes.h and docs/label.md).
//   #/label/projects                          the caller's projects with their roles, and a
//                                             form to create one
//   #/label/projects?project=ID&page=P        one project: P is annotate, review, batches or
//                                             manage, offered as the caller's roles allow
// The four annotator workspaces (qa-pairs, ranking, image-caption, video-caption) share one
// layout: instructions on the left, the work in the middle, the pairs / ranks / objects /
// activities on the right. A reviewer sees the same workspace read-only (editable for a
// fix-accept) with the checklist and a comment composer; comments are anchored with the
// strings of label_store.h `Comment` ("item", "span:S-E", "pair:ID", "object:ID",
// "activity:ID", "time:S-E", "dimension:NAME") and shown where they point.
// Passage offsets are Unicode code points (the API's unit); the DOM counts UTF-16 units, so
// every offset goes through Array.from(). Server text reaches the DOM only as text nodes.
import { ApiError, fetchFile, getJson, postJson, postText, probeList, putJson } from './api.js';
import { begin, fail, figure, h, option, PALETTE, publish, ready, showError } from './ui.js';

export const KINDS = ['qa-pairs', 'ranking', 'image-caption', 'video-caption'];
const ROLES = ['annotator', 'reviewer', 'requester', 'manager'];
// Export formats that fit each kind (label.md "Exports"); gt-manifest fits all.
export const EXPORTS = {
  'qa-pairs': ['sft', 'gt-manifest'],
  ranking: ['preference', 'gt-manifest'],
  'image-caption': ['coco-captions', 'gt-manifest'],
  'video-caption': ['activitynet', 'gt-manifest'],
};
// A starting config per kind for the create form (ParseProjectConfig's keys).
const CONFIG_TEMPLATES = {
  'qa-pairs': { instructions: 'Write question/answer pairs about the passage; highlight the evidence of each.', question_types: ['factual', 'reasoning'], requirements: { min_pairs: 2 } },
  ranking: { instructions: 'Rank the responses from best to worst on each dimension.', requirements: { dimensions: ['helpfulness'] } },
  'image-caption': { instructions: 'Click each object, name and describe it, describe how they relate and the setting, then write one caption.', requirements: { min_objects: 1 } },
  'video-caption': { instructions: 'Mark each activity with its start and end, describe it, the setting, then write one caption.', requirements: { min_activities: 1 } },
};
// Idle time is not work: a second counts only within this long after the last input.
export const IDLE_SECONDS = 60;
const AUTOSAVE_MS = 3000;
export const SHORTCUTS = [
  ['Ctrl+Enter', 'Submit the work (annotator) / accept (reviewer)'],
  ['Ctrl+S', 'Save the draft now'],
  ['N', 'Next item or submission, once this one is done'],
  ['[ and ]', 'Video: mark the start / end of an activity at the playhead'],
  ['↑ / ↓', 'Ranking: select the previous / next response in a list'],
  ['Alt+↑ / Alt+↓', 'Ranking: move the selected response up / down'],
  ['?', 'Show or hide this list'],
];

// ---- pure helpers (exported for tests) ---------------------------------------------------------
export const cpLength = (s) => Array.from(s).length;
// The text before code point `cp` of `s`, as UTF-16 length.
export const cpToUtf16 = (s, cp) => Array.from(s).slice(0, cp).join('').length;
export const colorOf = (i) => PALETTE[i % PALETTE.length];
const letter = (i) => (i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`);
const fmtTime = (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${(s % 60).toFixed(2).padStart(5, '0')}` : '—');
const fmtSeconds = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
const num = (v, d = 1) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
// "span:3-9" → {kind:'span', a:'3', b:'9'}; "pair:p0" → {kind:'pair', id:'p0'}.
export function parseAnchor(anchor) {
  const s = String(anchor || 'item');
  const i = s.indexOf(':');
  if (i < 0) return { kind: s };
  const kind = s.slice(0, i);
  const rest = s.slice(i + 1);
  if (kind === 'span' || kind === 'time') {
    const [a, b] = rest.split('-').map(Number);
    return { kind, id: rest, a, b };
  }
  return { kind, id: rest };
}
// replaceChildren() for this file: arrays flattened, null/false/'' left out (h() does the same
// for an element's children, replaceChildren would print them as text).
function put(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false && k !== ''));
}
const isTyping = (e) => {
  const t = e.target;
  return t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
};

// ---- active time -------------------------------------------------------------------------------
// Counts seconds with input activity: a second counts when the last keystroke, click, scroll,
// pointer move or video playback was at most IDLE_SECONDS ago, and the browser tab is shown.
// take() hands the count since the last report to a save or submit (the store credits it).
class ActiveTimer {
  constructor() {
    this.last = Date.now();
    this.unsent = 0;
    this.total = 0;
    this.onTick = null;
    this.poke = () => {
      this.last = Date.now();
    };
    for (const ev of ['keydown', 'mousedown', 'mousemove', 'wheel', 'input', 'touchstart']) document.addEventListener(ev, this.poke, { passive: true, capture: true });
    this.timer = setInterval(() => {
      if (document.hidden || Date.now() - this.last > IDLE_SECONDS * 1000) return;
      this.unsent++;
      this.total++;
      if (this.onTick) this.onTick(this.total);
    }, 1000);
  }

  take() {
    const n = this.unsent;
    this.unsent = 0;
    return n;
  }

  giveBack(n) {
    this.unsent += n;
  }

  stop() {
    clearInterval(this.timer);
    for (const ev of ['keydown', 'mousedown', 'mousemove', 'wheel', 'input', 'touchstart']) document.removeEventListener(ev, this.poke, { capture: true });
  }
}

// ---- the module ------------------------------------------------------------------------------
export const loadLabelModule = () => probeList('/api/label/projects', 'projects');

export function labelStatus(ctx) {
  if (!ctx || !ctx.available) return 'no label API on this server';
  return `${ctx.count} project${ctx.count === 1 ? '' : 's'}`;
}

// What the shown page holds: its timers and key handler, stopped by leaveLabel().
let live = null;

export function leaveLabel() {
  if (live) live.stop();
  live = null;
  const help = document.getElementById('label-help');
  if (help) help.remove();
}

class Live {
  constructor() {
    this.alive = true;
    this.cleanups = [];
    this.keys = null;
    this.onKey = (e) => {
      if (e.key === '?' && !isTyping(e)) {
        e.preventDefault();
        toggleHelp();
        return;
      }
      if (this.keys) this.keys(e);
    };
    document.addEventListener('keydown', this.onKey);
  }

  add(fn) {
    this.cleanups.push(fn);
  }

  stop() {
    this.alive = false;
    document.removeEventListener('keydown', this.onKey);
    for (const fn of this.cleanups) fn();
    this.cleanups = [];
  }
}

function toggleHelp() {
  const old = document.getElementById('label-help');
  if (old) {
    old.remove();
    return;
  }
  const close = () => box.remove();
  const box = h('div', { id: 'label-help', class: 'lw-help', role: 'dialog', 'aria-label': 'Keyboard shortcuts', 'data-testid': 'label-help' },
    h('div', { class: 'lw-help-card' },
      h('h3', {}, 'Keyboard shortcuts'),
      h('table', { class: 'list' }, h('tbody', {}, SHORTCUTS.map(([k, what]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, what))))),
      h('button', { type: 'button', onclick: close, 'data-testid': 'label-help-close' }, 'Close')));
  box.addEventListener('click', (e) => e.target === box && close());
  document.body.append(box);
}

const projectHash = (id, page) => `#/label/projects?${new URLSearchParams(page ? { project: String(id), page } : { project: String(id) })}`;

// Which pages a role set opens: annotators annotate, reviewers review, requesters gate
// batches, managers do everything but annotate (the store lets a manager review and gate).
export function pagesFor(roles) {
  const r = new Set(roles || []);
  const out = [];
  if (r.has('annotator')) out.push('annotate');
  if (r.has('reviewer') || r.has('manager')) out.push('review');
  if (r.has('requester') || r.has('manager')) out.push('batches');
  if (r.has('manager')) out.push('manage');
  return out;
}
const PAGE_LABELS = { annotate: 'Annotate', review: 'Review', batches: 'Batches', manage: 'Manage' };

export async function showLabel({ main, params, navigate, ctx }) {
  leaveLabel();
  const me = new Live();
  live = me;
  const isCurrent = begin();
  if (ctx && !ctx.available) {
    put(main, h('section', { class: 'view', 'data-testid': 'view-label' }, h('div', { class: 'empty', 'data-testid': 'label-none' }, 'This server has no label API (/api/label).')));
    publish('label', null, null, { label: { page: 'none' } });
    ready(isCurrent);
    return;
  }
  try {
    if (params.get('project')) await showProject(me, main, params, navigate, isCurrent);
    else await showProjects(me, main, navigate, isCurrent);
  } catch (err) {
    fail(isCurrent, err);
    return;
  }
  ready(isCurrent);
}

// ---- the projects list and the create form ------------------------------------------------------
async function showProjects(me, main, navigate, isCurrent) {
  const { projects } = await getJson('/api/label/projects');
  if (!isCurrent()) return;
  const list = projects.length
    ? h('table', { class: 'list lw-projects', 'data-testid': 'label-projects' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Project'), h('th', {}, 'Kind'), h('th', {}, 'Your roles'), h('th', {}, 'Created by'))),
      h('tbody', {}, projects.map((p) => h('tr', { 'data-testid': 'label-project', 'data-id': String(p.id), 'data-name': p.name },
        h('td', {}, h('a', { href: projectHash(p.id), 'data-testid': 'label-project-link' }, p.name)),
        h('td', {}, p.kind),
        h('td', { 'data-testid': 'label-project-roles' }, (p.roles || []).join(', ')),
        h('td', {}, p.created_by)))))
    : h('div', { class: 'empty', 'data-testid': 'label-no-projects' }, 'You have no role in any labeling project yet. Create one below, or ask a project manager to add you.');

  const name = h('input', { type: 'text', 'data-testid': 'label-new-name', 'aria-label': 'Project name', placeholder: 'name', required: true });
  const kind = h('select', { 'data-testid': 'label-new-kind', 'aria-label': 'Kind' }, KINDS.map((k) => option(k, k)));
  const config = h('textarea', { rows: '8', class: 'lw-json', 'data-testid': 'label-new-config', 'aria-label': 'Config (JSON)', spellcheck: 'false' });
  let touched = false;
  const fillTemplate = () => {
    if (!touched) config.value = JSON.stringify(CONFIG_TEMPLATES[kind.value], null, 2);
  };
  config.addEventListener('input', () => (touched = true));
  kind.addEventListener('change', fillTemplate);
  fillTemplate();
  const err = h('div', { class: 'lw-error', role: 'alert', 'data-testid': 'label-new-error', hidden: true });
  const create = async (e) => {
    e.preventDefault();
    err.hidden = true;
    let cfg;
    try {
      cfg = config.value.trim() ? JSON.parse(config.value) : {};
    } catch (x) {
      err.textContent = `Config: not valid JSON (${x.message})`;
      err.hidden = false;
      return;
    }
    try {
      const p = await postJson('/api/label/projects', { name: name.value.trim(), kind: kind.value, config: cfg });
      navigate(projectHash(p.id, 'manage'));
    } catch (x) {
      err.textContent = `${x.code ? `${x.code}: ` : ''}${x.message}`;
      err.hidden = false;
    }
  };
  const form = h('form', { class: 'lw-create', 'data-testid': 'label-create', onsubmit: create },
    h('h3', {}, 'New project'),
    h('div', { class: 'controls' }, h('label', {}, 'Name ', name), h('label', {}, 'Kind ', kind)),
    h('label', { class: 'lw-block' }, 'Config (JSON: instructions, requirements, overlap, review_rate, batch_size, …)', config),
    err,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'label-create-submit' }, 'Create project'));
  put(main, h('section', { class: 'view label', 'data-testid': 'view-label' }, h('h2', {}, 'Labeling projects'), list, form));
  publish('label', null, null, { label: { page: 'projects', projects: projects.map((p) => ({ id: p.id, name: p.name, kind: p.kind, roles: p.roles })) } });
}

// ---- one project -----------------------------------------------------------------------------------
async function showProject(me, main, params, navigate, isCurrent) {
  const project = await getJson(`/api/label/projects/${encodeURIComponent(params.get('project'))}`);
  if (!isCurrent()) return;
  const pages = pagesFor(project.roles);
  const page = pages.includes(params.get('page')) ? params.get('page') : pages[0];
  const tabs = h('nav', { class: 'lw-tabs', 'aria-label': 'Project pages' }, pages.map((p) => h('a', {
    href: projectHash(project.id, p),
    class: p === page ? 'active' : null,
    'aria-current': p === page ? 'page' : null,
    'data-testid': `label-page-${p}`,
  }, PAGE_LABELS[p])));
  const body = h('div', { class: 'lw-page', 'data-testid': `label-${page || 'nothing'}` });
  put(main, h('section', { class: 'view label', 'data-testid': 'view-label', 'data-project': project.name, 'data-kind': project.kind },
    h('div', { class: 'lw-head' },
      h('a', { href: '#/label/projects', class: 'muted' }, 'Projects'), ' / ',
      h('h2', { 'data-testid': 'label-project-name' }, project.name),
      h('span', { class: 'badge' }, project.kind),
      h('span', { class: 'muted small', 'data-testid': 'label-roles' }, `your roles: ${(project.roles || []).join(', ')}`),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'chip-btn', title: 'Keyboard shortcuts (?)', onclick: toggleHelp, 'data-testid': 'label-shortcuts' }, '? Shortcuts')),
    tabs, body));
  const info = { page, project: project.id, name: project.name, kind: project.kind, roles: project.roles };
  publish('label', null, null, { label: info });
  if (!page) {
    body.append(h('div', { class: 'empty' }, 'Your roles in this project open no page.'));
    return;
  }
  const ctx = { me, body, project, navigate, info };
  if (page === 'annotate') await new AnnotatePage(ctx).next();
  else if (page === 'review') await new ReviewPage(ctx).next();
  else if (page === 'batches') await showBatches(ctx);
  else await showManage(ctx);
}

// ---- the workspace shared by the annotator and the reviewer ----------------------------------------
// opts: { project, item, media, initial (the payload to show), readonly, comments, onChange(),
// onPick(anchor) }
class Workspace {
  constructor(opts) {
    Object.assign(this, opts);
    this.config = this.project.config || {};
    this.req = this.config.requirements || {};
    this.instructions = h('aside', { class: 'lw-instructions', 'data-testid': 'lw-instructions' });
    this.work = h('div', { class: 'lw-work', 'data-testid': 'lw-work' });
    this.side = h('aside', { class: 'lw-side', 'data-testid': 'lw-side' });
    this.root = h('div', { class: `lw-grid${this.readonly ? ' readonly' : ''}`, 'data-testid': 'lw-workspace', 'data-kind': this.project.kind }, this.instructions, this.work, this.side);
    const Editor = EDITORS[this.project.kind];
    this.editor = new Editor(this, this.initial || {});
    this.render();
  }

  render() {
    this.root.classList.toggle('readonly', Boolean(this.readonly));
    const req = shownRequirements(this.project.kind, this.req);
    const itemComments = (this.comments || []).filter((c) => !['span', 'pair', 'object', 'activity', 'time', 'dimension'].includes(parseAnchor(c.anchor).kind));
    put(this.instructions, 
      h('h3', {}, 'Instructions'),
      h('div', { class: 'lw-instr-text', 'data-testid': 'lw-instructions-text' }, this.config.instructions || 'No instructions.'),
      req.length ? h('h4', {}, 'Requirements') : null,
      req.length ? h('ul', { class: 'lw-reqs' }, req.map(([k, v]) => h('li', {}, h('code', {}, k), ' ', fmtRequirement(v)))) : null,
      itemComments.length ? h('h4', {}, 'Reviewer comments') : null,
      itemComments.map((c) => commentNode(c)));
    this.editor.render();
  }

  changed() {
    if (this.onChange) this.onChange();
  }

  pick(anchor) {
    if (this.onPick) this.onPick(anchor);
  }

  commentsAt(kind, id) {
    return (this.comments || []).filter((c) => {
      const a = parseAnchor(c.anchor);
      return a.kind === kind && (id === undefined || a.id === String(id));
    });
  }

  payload() {
    return this.editor.payload();
  }
}

// The requirements that bind this kind, without the unset ones (0, false, empty, a word
// range of 0–0): the config carries every kind's keys with their defaults.
const KIND_REQUIREMENTS = {
  'qa-pairs': ['min_pairs', 'max_pairs', 'question_type_min_share', 'question_words', 'answer_words', 'require_spans'],
  ranking: ['dimensions', 'allow_ties', 'require_rationale'],
  'image-caption': ['min_objects', 'min_relationships', 'caption_words', 'require_setting'],
  'video-caption': ['min_activities', 'caption_words', 'require_setting'],
};
export function shownRequirements(kind, req) {
  const unset = (v) => v === null || v === undefined || v === 0 || v === false || (Array.isArray(v) && !v.length) ||
    (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => !x));
  return (KIND_REQUIREMENTS[kind] || []).filter((k) => !unset(req[k])).map((k) => [k, req[k]]);
}

// {"min":3,"max":0} → "≥ 3 words"; lists joined; other values as JSON.
function fmtRequirement(v) {
  if (Array.isArray(v)) return v.join(', ');
  if (v && typeof v === 'object' && ('min' in v || 'max' in v)) return [v.min ? `≥ ${v.min}` : '', v.max ? `≤ ${v.max}` : ''].filter(Boolean).join(' and ') + ' words';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function commentNode(c) {
  return h('div', { class: 'lw-comment', 'data-testid': 'anchored-comment', 'data-anchor': c.anchor || 'item' },
    h('span', { class: 'lw-comment-who' }, `${c.author || 'reviewer'}${c.round ? ` · round ${c.round}` : ''} · ${c.anchor || 'item'}`),
    h('span', { class: 'lw-comment-text' }, c.text));
}

const pickable = (ws, anchor, el) => {
  if (ws.readonly) {
    el.classList.add('pickable');
    el.addEventListener('click', (e) => {
      if (e.target.closest('button, input, textarea, select, video')) return;
      ws.pick(anchor);
    });
  }
  return el;
};

// ---- qa-pairs --------------------------------------------------------------------------------------
class QaEditor {
  constructor(ws, payload) {
    this.ws = ws;
    this.text = String((ws.item && ws.item.source) || '');
    this.pairs = (payload.qa_pairs || []).map((p) => ({ ...p, spans: (p.spans || []).map((s) => ({ ...s })) }));
    this.seq = this.pairs.length;
    if (!this.pairs.length && !ws.readonly) this.addPair(false);
    this.current = this.pairs.length ? 0 : -1;
  }

  addPair(render = true) {
    let id;
    do id = `p${this.seq++}`;
    while (this.pairs.some((p) => p.id === id));
    const types = this.ws.config.question_types || [];
    this.pairs.push({ id, question: '', answer: '', question_type: types[0] || '', refs_entire_passage: false, spans: [] });
    this.current = this.pairs.length - 1;
    if (render) {
      this.render();
      this.ws.changed();
    }
  }

  // The selection inside the passage as code points [start, end), or null.
  selection() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    if (!this.passage.contains(r.startContainer) || !this.passage.contains(r.endContainer)) return null;
    const at = (node, off) => {
      const pre = document.createRange();
      pre.setStart(this.passage, 0);
      pre.setEnd(node, off);
      return cpLength(pre.toString());
    };
    const start = at(r.startContainer, r.startOffset);
    const end = at(r.endContainer, r.endOffset);
    return end > start ? { start, end } : null;
  }

  onSelect() {
    const s = this.selection();
    if (!s) return;
    window.getSelection().removeAllRanges();
    if (this.ws.readonly) {
      this.ws.pick(`span:${s.start}-${s.end}`);
      return;
    }
    if (this.current < 0) this.addPair(false);
    const pair = this.pairs[this.current];
    if (pair.spans.some((x) => x.start === s.start && x.end === s.end)) return;
    pair.spans.push(s);
    pair.spans.sort((a, b) => a.start - b.start);
    this.render();
    this.ws.changed();
  }

  renderPassage() {
    const chars = Array.from(this.text);
    const cuts = new Set([0, chars.length]);
    const commented = this.ws.commentsAt('span').map((c) => parseAnchor(c.anchor)).filter((a) => Number.isFinite(a.a) && Number.isFinite(a.b));
    for (const p of this.pairs) for (const s of p.spans) cuts.add(Math.max(0, Math.min(chars.length, s.start))).add(Math.max(0, Math.min(chars.length, s.end)));
    for (const a of commented) cuts.add(Math.max(0, Math.min(chars.length, a.a))).add(Math.max(0, Math.min(chars.length, a.b)));
    const sorted = [...cuts].sort((a, b) => a - b);
    const segs = [];
    for (let i = 0; i + 1 < sorted.length; i++) {
      const [a, b] = [sorted[i], sorted[i + 1]];
      const covering = this.pairs.map((p, k) => [p, k]).filter(([p]) => p.spans.some((s) => s.start <= a && b <= s.end));
      const notes = commented.filter((c) => c.a <= a && b <= c.b);
      const attrs = { class: 'seg', 'data-start': String(a), 'data-end': String(b) };
      if (covering.length) {
        const [, k] = covering.find(([, kk]) => kk === this.current) || covering[0];
        attrs.class += ' hl';
        attrs['data-testid'] = 'lw-highlight';
        attrs['data-pairs'] = covering.map(([p]) => p.id).join(' ');
        attrs.style = `background:${colorOf(k)}33;border-bottom:2px solid ${colorOf(k)}`;
      }
      if (notes.length) {
        attrs.class += ' noted';
        attrs.title = notes.map((n) => n.id).join(', ');
        attrs['data-noted'] = 'true';
      }
      segs.push(h('span', attrs, chars.slice(a, b).join('')));
    }
    put(this.passage, ...segs);
  }

  render() {
    const ws = this.ws;
    this.passage = h('div', { class: 'lw-passage', 'data-testid': 'lw-passage', onmouseup: () => this.onSelect(), onkeyup: (e) => e.shiftKey && this.onSelect() });
    this.renderPassage();
    const spanNotes = ws.commentsAt('span');
    put(ws.work, 
      h('h3', {}, ws.item.title ? `Passage · ${ws.item.title}` : 'Passage'),
      h('p', { class: 'muted small' }, ws.readonly ? 'Select text to comment on a span.' : 'Select text to add it as a span of the current pair (its colour).'),
      this.passage,
      spanNotes.length ? h('div', { class: 'lw-notes' }, spanNotes.map((c) => commentNode(c))) : null);
    const types = ws.config.question_types || [];
    const cards = this.pairs.map((p, k) => {
      const set = (field) => (e) => {
        p[field] = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
        if (field === 'refs_entire_passage') this.render();
        ws.changed();
      };
      const typeSel = types.length
        ? h('select', { 'data-testid': 'pair-type', 'aria-label': 'Question type', disabled: ws.readonly, onchange: set('question_type') }, types.map((t) => option(t, t, t === p.question_type)))
        : h('input', { type: 'text', 'data-testid': 'pair-type', 'aria-label': 'Question type', value: p.question_type || '', disabled: ws.readonly, oninput: set('question_type') });
      const spans = p.spans.map((s, j) => h('span', { class: 'chip', 'data-testid': 'pair-span', 'data-start': String(s.start), 'data-end': String(s.end), style: `background:${colorOf(k)}22;color:inherit` },
        `${s.start}–${s.end} “${Array.from(this.text).slice(s.start, s.end).join('').slice(0, 40)}”`,
        ws.readonly ? null : h('button', { type: 'button', class: 'chip-x', title: 'Remove this span', 'aria-label': 'Remove span', onclick: () => { p.spans.splice(j, 1); this.render(); ws.changed(); } }, '×')));
      const card = h('div', {
        class: `lw-card${k === this.current ? ' current' : ''}`,
        'data-testid': 'pair',
        'data-id': p.id,
        style: `border-left-color:${colorOf(k)}`,
        onfocusin: () => {
          if (this.current !== k) {
            this.current = k;
            for (const c of ws.side.querySelectorAll('[data-testid=pair]')) c.classList.toggle('current', c.dataset.id === p.id);
            this.renderPassage();
          }
        },
      },
      h('div', { class: 'lw-card-head' },
        h('button', { type: 'button', class: 'swatch', style: `background:${colorOf(k)}`, title: 'Make this the current pair', 'data-testid': 'pair-select', onclick: () => { this.current = k; this.render(); } }),
        h('strong', {}, `Pair ${k + 1}`),
        h('span', { class: 'muted small' }, p.id),
        h('span', { class: 'spacer' }),
        ws.readonly ? null : h('button', { type: 'button', class: 'chip-btn', 'data-testid': 'pair-remove', onclick: () => { this.pairs.splice(k, 1); this.current = Math.min(this.current, this.pairs.length - 1); this.render(); ws.changed(); } }, 'Remove')),
      h('textarea', { rows: '2', placeholder: 'Question', 'aria-label': 'Question', 'data-testid': 'pair-question', disabled: ws.readonly, oninput: set('question') }, p.question || ''),
      h('textarea', { rows: '2', placeholder: 'Answer', 'aria-label': 'Answer', 'data-testid': 'pair-answer', disabled: ws.readonly, oninput: set('answer') }, p.answer || ''),
      h('div', { class: 'controls' },
        h('label', {}, 'Type ', typeSel),
        h('label', {}, h('input', { type: 'checkbox', 'data-testid': 'pair-entire', checked: p.refs_entire_passage ? true : null, disabled: ws.readonly, onchange: set('refs_entire_passage') }), ' references entire passage')),
      h('div', { class: 'chips lw-spans' }, spans.length ? spans : h('span', { class: 'muted small' }, p.refs_entire_passage ? 'the entire passage' : 'no span yet')),
      ws.commentsAt('pair', p.id).map((c) => commentNode(c)));
      return pickable(ws, `pair:${p.id}`, card);
    });
    put(ws.side, h('h3', {}, `QA pairs (${this.pairs.length})`), ...cards,
      ws.readonly ? null : h('button', { type: 'button', 'data-testid': 'pair-add', onclick: () => this.addPair() }, '+ Add pair'));
  }

  payload() {
    return { qa_pairs: this.pairs.map((p) => ({ id: p.id, question: p.question, answer: p.answer, question_type: p.question_type, refs_entire_passage: Boolean(p.refs_entire_passage), spans: p.spans.map((s) => ({ start: s.start, end: s.end })) })) };
  }

  anchors() {
    return [...this.pairs.map((p) => `pair:${p.id}`), ...this.pairs.flatMap((p) => p.spans.map((s) => `span:${s.start}-${s.end}`))];
  }
}

// ---- ranking ---------------------------------------------------------------------------------------
// Each dimension's order starts as the item's response order but counts as ranked only once
// the annotator moved a response or confirmed the order: an untouched dimension is left out
// of the payload, so the `all_ranked` check names it.
class RankEditor {
  constructor(ws, payload) {
    this.ws = ws;
    this.responses = (ws.item && ws.item.responses) || [];
    this.dims = ws.req.dimensions || [];
    this.orders = {};
    this.ranked = {};
    for (const d of this.dims) this.orders[d] = this.responses.map((r) => String(r.id));
    for (const r of payload.rankings || []) {
      if (!this.dims.includes(r.dimension) || !Array.isArray(r.order)) continue;
      this.orders[r.dimension] = r.order.map(String);
      this.ranked[r.dimension] = true;
    }
    this.rationale = { ...(payload.rationale || {}) };
    this.focus = null; // [dimension, response id] to focus after a re-render
  }

  letterOf(id) {
    const i = this.responses.findIndex((r) => String(r.id) === String(id));
    return i < 0 ? '?' : letter(i);
  }

  move(dim, id, to) {
    const order = this.orders[dim];
    const from = order.indexOf(id);
    if (from < 0 || to < 0 || to >= order.length) return;
    order.splice(from, 1);
    order.splice(to, 0, id);
    this.ranked[dim] = true;
    this.focus = [dim, id];
    this.render();
    this.ws.changed();
  }

  render() {
    const ws = this.ws;
    const prompt = String(ws.item.prompt || '');
    const history = Array.isArray(ws.item.history) ? ws.item.history : [];
    put(ws.work, 
      history.length ? h('details', { class: 'lw-history' }, h('summary', {}, `Conversation so far (${history.length} turns)`), history.map((t) => h('div', { class: 'lw-turn' }, h('strong', {}, `${t.role}: `), String(t.text || '')))) : null,
      h('h3', {}, 'Prompt'),
      h('div', { class: 'lw-prompt', 'data-testid': 'lw-prompt' }, prompt),
      h('h3', {}, `Responses (${this.responses.length})`),
      this.responses.map((r, i) => h('div', { class: 'lw-response', 'data-testid': 'lw-response', 'data-id': String(r.id) }, h('span', { class: 'lw-letter' }, letter(i)), h('div', { class: 'lw-response-text' }, String(r.text || '')))));
    const blocks = this.dims.map((dim) => {
      const order = this.orders[dim];
      const list = h('ol', { class: 'lw-rank', 'data-testid': 'rank-list', 'data-dimension': dim });
      order.forEach((id, pos) => {
        const li = h('li', {
          class: 'lw-rank-item',
          tabindex: '0',
          draggable: ws.readonly ? null : 'true',
          'data-testid': 'rank-item',
          'data-id': id,
          'aria-label': `Response ${this.letterOf(id)}, rank ${pos + 1}`,
          onkeydown: (e) => {
            if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
            e.preventDefault();
            const to = pos + (e.key === 'ArrowUp' ? -1 : 1);
            if (e.altKey && !ws.readonly) this.move(dim, id, to);
            else if (!e.altKey) list.children[Math.max(0, Math.min(order.length - 1, to))].focus();
          },
          ondragstart: (e) => {
            e.dataTransfer.setData('text/plain', JSON.stringify({ dim, id }));
            e.dataTransfer.effectAllowed = 'move';
            li.classList.add('dragging');
          },
          ondragend: () => li.classList.remove('dragging'),
          ondragover: (e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'move';
          },
          ondrop: (e) => {
            e.preventDefault();
            let from;
            try {
              from = JSON.parse(e.dataTransfer.getData('text/plain'));
            } catch {
              return;
            }
            if (!from || from.dim !== dim || from.id === id) return;
            // dropped on the lower half of an item: after it, else before it
            const box = li.getBoundingClientRect();
            const after = e.clientY > box.top + box.height / 2;
            const without = order.filter((x) => x !== from.id);
            let to = without.indexOf(id) + (after ? 1 : 0);
            to = Math.max(0, Math.min(without.length, to));
            this.move(dim, from.id, to);
          },
        },
        h('span', { class: 'lw-rank-pos' }, `${pos + 1}.`),
        h('span', { class: 'lw-letter' }, this.letterOf(id)),
        h('span', { class: 'lw-rank-text' }, String((this.responses.find((r) => String(r.id) === id) || {}).text || '').slice(0, 80)));
        list.append(li);
      });
      const block = h('div', { class: `lw-card${this.ranked[dim] ? ' ranked' : ''}`, 'data-testid': 'rank-dimension', 'data-dimension': dim, 'data-ranked': this.ranked[dim] ? 'true' : 'false' },
        h('div', { class: 'lw-card-head' }, h('strong', {}, dim), h('span', { class: 'muted small' }, this.ranked[dim] ? 'ranked' : 'not ranked yet'), h('span', { class: 'spacer' }),
          ws.readonly || this.ranked[dim] ? null : h('button', { type: 'button', class: 'chip-btn', 'data-testid': 'rank-keep', onclick: () => { this.ranked[dim] = true; this.render(); ws.changed(); } }, 'Keep this order')),
        h('div', { class: 'muted small' }, 'best first: drag, or select with ↑/↓ and move with Alt+↑/↓'),
        list,
        h('textarea', { rows: '2', placeholder: `Rationale for ${dim} (optional)`, 'aria-label': `Rationale for ${dim}`, 'data-testid': 'rank-rationale', disabled: ws.readonly, oninput: (e) => { this.rationale[dim] = e.target.value; ws.changed(); } }, this.rationale[dim] || ''),
        ws.commentsAt('dimension', dim).map((c) => commentNode(c)));
      return pickable(ws, `dimension:${dim}`, block);
    });
    put(ws.side, h('h3', {}, 'Ranks'), ...blocks);
    if (this.focus) {
      const [d, id] = this.focus;
      this.focus = null;
      const el = ws.side.querySelector(`[data-testid=rank-list][data-dimension="${CSS.escape(d)}"] [data-id="${CSS.escape(id)}"]`);
      if (el) el.focus();
    }
  }

  payload() {
    const rationale = Object.fromEntries(Object.entries(this.rationale).filter(([d, t]) => this.dims.includes(d) && String(t).trim()));
    const out = { rankings: this.dims.filter((d) => this.ranked[d]).map((d) => ({ dimension: d, order: this.orders[d].slice() })) };
    if (Object.keys(rationale).length) out.rationale = rationale;
    // ids keep the item's type: a numeric id stays a number
    const byText = new Map(this.responses.map((r) => [String(r.id), r.id]));
    for (const r of out.rankings) r.order = r.order.map((id) => (byText.has(id) ? byText.get(id) : id));
    return out;
  }

  anchors() {
    return this.dims.map((d) => `dimension:${d}`);
  }
}

// ---- image-caption ---------------------------------------------------------------------------------
class ImageEditor {
  constructor(ws, payload) {
    this.ws = ws;
    this.objects = (payload.objects || []).map((o) => ({ ...o, id: String(o.id) }));
    this.relationships = (payload.relationships || []).map((r) => ({ ...r, subject: String(r.subject), object: String(r.object) }));
    this.setting = payload.setting || '';
    this.caption = payload.caption || '';
    this.seq = this.objects.reduce((m, o) => Math.max(m, Number(o.id) || 0), 0);
  }

  render() {
    const ws = this.ws;
    const img = h('img', { src: ws.media || '', alt: 'The image to describe', 'data-testid': 'lw-image', draggable: 'false' });
    const dots = this.objects.map((o, k) => h('span', { class: 'lw-dot', 'data-testid': 'lw-dot', 'data-id': o.id, style: `left:${o.x * 100}%;top:${o.y * 100}%;background:${colorOf(k)}` }, String(k + 1)));
    const stage = h('div', {
      class: 'lw-stage',
      'data-testid': 'lw-stage',
      onclick: (e) => {
        if (ws.readonly || e.target !== img) return;
        const box = img.getBoundingClientRect();
        const round = (v) => Math.round(Math.max(0, Math.min(1, v)) * 10000) / 10000;
        this.objects.push({ id: String(++this.seq), x: round((e.clientX - box.left) / box.width), y: round((e.clientY - box.top) / box.height), name: '', description: '' });
        this.render();
        ws.changed();
        const names = ws.side.querySelectorAll('[data-testid=object-name]');
        if (names.length) names[names.length - 1].focus();
      },
    }, img, dots);
    put(ws.work, 
      h('p', { class: 'muted small' }, ws.readonly ? 'The annotator’s objects are numbered on the image.' : 'Click each object in the image to add a numbered dot, then name and describe it on the right.'),
      stage,
      h('label', { class: 'lw-block' }, 'Setting', h('textarea', { rows: '2', 'data-testid': 'lw-setting', disabled: ws.readonly, oninput: (e) => { this.setting = e.target.value; ws.changed(); } }, this.setting)),
      h('label', { class: 'lw-block' }, 'Caption (combine the objects, relationships and setting)', h('textarea', { rows: '3', 'data-testid': 'lw-caption', disabled: ws.readonly, oninput: (e) => { this.caption = e.target.value; ws.changed(); } }, this.caption)));
    const objs = this.objects.map((o, k) => pickable(ws, `object:${o.id}`, h('div', { class: 'lw-card', 'data-testid': 'object', 'data-id': o.id, style: `border-left-color:${colorOf(k)}` },
      h('div', { class: 'lw-card-head' }, h('span', { class: 'lw-dot inline', style: `background:${colorOf(k)}` }, String(k + 1)), h('span', { class: 'muted small' }, `x ${o.x.toFixed(3)}, y ${o.y.toFixed(3)}`), h('span', { class: 'spacer' }),
        ws.readonly ? null : h('button', { type: 'button', class: 'chip-btn', 'data-testid': 'object-remove', onclick: () => { this.objects.splice(k, 1); this.relationships = this.relationships.filter((r) => r.subject !== o.id && r.object !== o.id); this.render(); ws.changed(); } }, 'Remove')),
      h('input', { type: 'text', placeholder: 'Name', 'aria-label': `Object ${k + 1} name`, 'data-testid': 'object-name', value: o.name || '', disabled: ws.readonly, oninput: (e) => { o.name = e.target.value; ws.changed(); } }),
      h('textarea', { rows: '2', placeholder: 'Description', 'aria-label': `Object ${k + 1} description`, 'data-testid': 'object-description', disabled: ws.readonly, oninput: (e) => { o.description = e.target.value; ws.changed(); } }, o.description || ''),
      ws.commentsAt('object', o.id).map((c) => commentNode(c)))));
    const objOptions = (sel) => this.objects.map((o, k) => option(o.id, `${k + 1}. ${o.name || 'object'}`, o.id === sel));
    const rels = this.relationships.map((r, k) => h('div', { class: 'lw-rel', 'data-testid': 'relationship' },
      h('select', { 'aria-label': 'Subject', 'data-testid': 'rel-subject', disabled: ws.readonly, onchange: (e) => { r.subject = e.target.value; ws.changed(); } }, objOptions(r.subject)),
      h('input', { type: 'text', placeholder: 'relation', 'aria-label': 'Relationship', 'data-testid': 'rel-text', value: r.text || '', disabled: ws.readonly, oninput: (e) => { r.text = e.target.value; ws.changed(); } }),
      h('select', { 'aria-label': 'Object', 'data-testid': 'rel-object', disabled: ws.readonly, onchange: (e) => { r.object = e.target.value; ws.changed(); } }, objOptions(r.object)),
      ws.readonly ? null : h('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove relationship', onclick: () => { this.relationships.splice(k, 1); this.render(); ws.changed(); } }, '×')));
    put(ws.side, h('h3', {}, `Objects (${this.objects.length})`), ...(objs.length ? objs : [h('p', { class: 'muted small' }, 'No object yet.')]),
      h('h3', {}, `Relationships (${this.relationships.length})`), ...rels,
      ws.readonly || this.objects.length < 2 ? null : h('button', { type: 'button', 'data-testid': 'rel-add', onclick: () => { this.relationships.push({ subject: this.objects[0].id, object: this.objects[1].id, text: '' }); this.render(); ws.changed(); } }, '+ Add relationship'));
  }

  payload() {
    return {
      objects: this.objects.map((o) => ({ id: o.id, x: o.x, y: o.y, name: o.name, description: o.description })),
      relationships: this.relationships.map((r) => ({ subject: r.subject, object: r.object, text: r.text })),
      setting: this.setting,
      caption: this.caption,
    };
  }

  anchors() {
    return this.objects.map((o) => `object:${o.id}`);
  }
}

// ---- video-caption ---------------------------------------------------------------------------------
class VideoEditor {
  constructor(ws, payload) {
    this.ws = ws;
    this.activities = (payload.activities || []).map((a) => ({ ...a, id: String(a.id) }));
    this.setting = payload.setting || '';
    this.caption = payload.caption || '';
    this.seq = this.activities.length;
    this.pendingStart = null;
  }

  at() {
    return Math.round((this.video ? this.video.currentTime : 0) * 100) / 100;
  }

  markStart() {
    if (this.ws.readonly) return;
    this.pendingStart = this.at();
    this.renderMarks();
  }

  markEnd() {
    if (this.ws.readonly) return;
    const end = this.at();
    const start = this.pendingStart ?? 0;
    if (!(end > start)) {
      this.status.textContent = `The end (${fmtTime(end)}) must come after the start (${fmtTime(start)}).`;
      return;
    }
    let id;
    do id = `a${++this.seq}`;
    while (this.activities.some((a) => a.id === id));
    this.activities.push({ id, start, end, text: '' });
    this.activities.sort((a, b) => a.start - b.start);
    this.pendingStart = null;
    this.renderSide();
    this.renderMarks();
    this.ws.changed();
    const row = this.ws.side.querySelector(`[data-testid=activity][data-id="${id}"] [data-testid=activity-text]`);
    if (row) row.focus();
  }

  seek(t) {
    if (this.video && Number.isFinite(t)) this.video.currentTime = t;
  }

  renderMarks() {
    this.status.textContent = this.pendingStart === null ? 'Play or seek, then mark the start ([) and the end (]) of an activity.' : `Start marked at ${fmtTime(this.pendingStart)}: now mark the end (]).`;
  }

  render() {
    const ws = this.ws;
    this.video = h('video', { src: ws.media || '', controls: true, preload: 'auto', 'data-testid': 'lw-video', class: 'lw-video' });
    this.clock = h('span', { class: 'lw-clock', 'data-testid': 'lw-clock' }, fmtTime(0));
    this.video.addEventListener('timeupdate', () => (this.clock.textContent = fmtTime(this.video.currentTime)));
    this.status = h('span', { class: 'muted small', 'data-testid': 'lw-mark-status' });
    const duration = Number(ws.item.duration);
    put(ws.work, this.video,
      h('div', { class: 'controls' },
        ws.readonly ? null : h('button', { type: 'button', 'data-testid': 'mark-start', onclick: () => this.markStart() }, 'Mark start ['),
        ws.readonly ? null : h('button', { type: 'button', 'data-testid': 'mark-end', onclick: () => this.markEnd() }, 'Mark end ]'),
        this.clock,
        Number.isFinite(duration) && duration > 0 ? h('span', { class: 'muted small' }, `duration ${fmtTime(duration)}`) : null,
        this.status),
      h('label', { class: 'lw-block' }, 'Setting', h('textarea', { rows: '2', 'data-testid': 'lw-setting', disabled: ws.readonly, oninput: (e) => { this.setting = e.target.value; ws.changed(); } }, this.setting)),
      h('label', { class: 'lw-block' }, 'Caption (combine the activities and the setting)', h('textarea', { rows: '3', 'data-testid': 'lw-caption', disabled: ws.readonly, oninput: (e) => { this.caption = e.target.value; ws.changed(); } }, this.caption)));
    this.renderMarks();
    this.renderSide();
  }

  renderSide() {
    const ws = this.ws;
    const rows = this.activities.map((a, k) => pickable(ws, `activity:${a.id}`, h('div', { class: 'lw-card', 'data-testid': 'activity', 'data-id': a.id, 'data-start': String(a.start), 'data-end': String(a.end), style: `border-left-color:${colorOf(k)}` },
      h('div', { class: 'lw-card-head' },
        h('button', { type: 'button', class: 'linkish', 'data-testid': 'activity-seek', title: 'Seek to the start', onclick: () => this.seek(a.start) }, `${fmtTime(a.start)} – ${fmtTime(a.end)}`),
        h('span', { class: 'muted small' }, a.id), h('span', { class: 'spacer' }),
        ws.readonly ? null : h('button', { type: 'button', class: 'chip-btn', 'data-testid': 'activity-remove', onclick: () => { this.activities.splice(k, 1); this.renderSide(); ws.changed(); } }, 'Remove')),
      h('input', { type: 'text', placeholder: 'What happens', 'aria-label': `Activity ${k + 1}`, 'data-testid': 'activity-text', value: a.text || '', disabled: ws.readonly, oninput: (e) => { a.text = e.target.value; ws.changed(); } }),
      ws.commentsAt('activity', a.id).map((c) => commentNode(c)))));
    const timeNotes = ws.commentsAt('time').map((c) => {
      const a = parseAnchor(c.anchor);
      const n = commentNode(c);
      n.prepend(h('button', { type: 'button', class: 'linkish', onclick: () => this.seek(a.a) }, `${fmtTime(a.a)} – ${fmtTime(a.b)} `));
      return n;
    });
    put(ws.side, h('h3', {}, `Activities (${this.activities.length})`), ...(rows.length ? rows : [h('p', { class: 'muted small' }, 'No activity yet.')]), ...timeNotes);
  }

  payload() {
    return { activities: this.activities.map((a) => ({ id: a.id, start: a.start, end: a.end, text: a.text })), setting: this.setting, caption: this.caption };
  }

  anchors() {
    return [...this.activities.map((a) => `activity:${a.id}`), ...this.activities.map((a) => `time:${a.start}-${a.end}`)];
  }

  keys(e) {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === '[') this.markStart();
    else if (e.key === ']') this.markEnd();
    else return false;
    return true;
  }
}

const EDITORS = { 'qa-pairs': QaEditor, ranking: RankEditor, 'image-caption': ImageEditor, 'video-caption': VideoEditor };

function failuresNode(failures) {
  return h('div', { class: 'lw-failures', role: 'alert', 'data-testid': 'lw-failures' },
    h('strong', {}, `The work fails ${failures.length} requirement${failures.length === 1 ? '' : 's'}:`),
    h('ul', {}, failures.map((f) => h('li', { 'data-testid': 'lw-failure', 'data-requirement': f.requirement }, h('code', {}, f.requirement), ` ${f.message || ''}`, f.path ? h('span', { class: 'muted' }, ` (${f.path})`) : null))));
}

// ---- the annotator's page --------------------------------------------------------------------------
class AnnotatePage {
  constructor({ me, body, project, info }) {
    this.me = me;
    this.body = body;
    this.project = project;
    this.info = info;
    this.timer = new ActiveTimer();
    me.add(() => this.timer.stop());
    me.add(() => this.flush());
    me.keys = (e) => this.keys(e);
    this.dirty = false;
    this.saveTimer = null;
    this.done = false;
  }

  publish(extra = {}) {
    publish('label', null, null, { label: { ...this.info, assignment: this.a ? { id: this.a.id, state: this.a.state, round: this.a.round, item_id: this.a.item_id } : null, done: this.done, payload: () => (this.ws ? this.ws.payload() : null), ...extra } });
  }

  async next() {
    this.flush();
    const r = await postJson(`/api/label/projects/${this.project.id}/next`, {});
    if (!this.me.alive) return;
    this.a = r.assignment;
    this.done = false;
    this.dirty = false;
    if (!this.a) {
      this.ws = null;
      put(this.body, h('div', { class: 'empty', 'data-testid': 'label-no-work' }, r.message || 'No work left.', ' ', h('button', { type: 'button', onclick: () => this.reload(), 'data-testid': 'label-check-again' }, 'Check again')));
      this.publish();
      return;
    }
    const a = this.a;
    this.status = h('span', { class: 'muted small', 'data-testid': 'lw-save-status', role: 'status' }, a.draft ? 'Draft restored' : '');
    this.active = h('span', { class: 'muted small', 'data-testid': 'lw-active', title: `Idle time (over ${IDLE_SECONDS} s without input) is not counted` }, `active ${fmtSeconds(a.active_seconds || 0)}`);
    const base = a.active_seconds || 0;
    this.timer.onTick = (n) => (this.active.textContent = `active ${fmtSeconds(base + n)}`);
    this.saveBtn = h('button', { type: 'button', 'data-testid': 'lw-save', title: 'Ctrl+S', onclick: () => this.save(true) }, 'Save draft');
    this.submitBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'lw-submit', title: 'Ctrl+Enter', onclick: () => this.submit() }, 'Submit');
    this.nextBtn = h('button', { type: 'button', 'data-testid': 'lw-next', title: 'N', hidden: true, onclick: () => this.reload() }, 'Next item →');
    this.msg = h('div', { 'data-testid': 'lw-message' });
    const comments = a.comments || [];
    const bar = h('div', { class: 'lw-bar' },
      h('strong', {}, `Item ${a.item_id}`),
      h('span', { class: `badge state-${a.state}`, 'data-testid': 'lw-state' }, a.state),
      a.round ? h('span', { class: 'badge rework', 'data-testid': 'lw-round' }, `rework round ${a.round}`) : null,
      comments.length ? h('span', { class: 'small', 'data-testid': 'lw-comment-count' }, `${comments.length} reviewer comment${comments.length === 1 ? '' : 's'}`) : null,
      h('span', { class: 'spacer' }), this.active, this.status, this.saveBtn, this.submitBtn, this.nextBtn);
    this.ws = new Workspace({ project: this.project, item: a.item || {}, media: a.media, initial: a.draft || {}, readonly: false, comments, onChange: () => this.changed() });
    put(this.body, bar, this.msg, this.ws.root);
    this.publish();
  }

  async reload() {
    try {
      await this.next();
    } catch (err) {
      showError(err);
    }
  }

  changed() {
    if (this.done) return;
    this.dirty = true;
    this.status.textContent = 'Unsaved changes';
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(false), AUTOSAVE_MS);
  }

  // A draft save when leaving with unsaved work (fire and forget).
  flush() {
    clearTimeout(this.saveTimer);
    if (this.dirty && this.a && !this.done) {
      const secs = this.timer.take();
      putJson(`/api/label/assignments/${this.a.id}`, { payload: this.ws.payload(), active_seconds: secs }).catch(() => {});
      this.dirty = false;
    }
  }

  async save(manual) {
    clearTimeout(this.saveTimer);
    if (!this.a || this.done) return;
    const a = this.a;
    const secs = this.timer.take();
    this.status.textContent = 'Saving…';
    try {
      await putJson(`/api/label/assignments/${a.id}`, { payload: this.ws.payload(), active_seconds: secs });
      if (a !== this.a) return;
      this.dirty = false;
      this.status.textContent = `${manual ? 'Saved' : 'Autosaved'} ${new Date().toLocaleTimeString()}`;
      this.publish({ saved: true });
    } catch (err) {
      this.timer.giveBack(secs);
      this.status.textContent = `Not saved: ${err.message}`;
    }
  }

  async submit() {
    if (!this.a || this.done) return;
    clearTimeout(this.saveTimer);
    const a = this.a;
    const secs = this.timer.take();
    this.submitBtn.disabled = true;
    put(this.msg, );
    try {
      const r = await postJson(`/api/label/assignments/${a.id}/submit`, { payload: this.ws.payload(), active_seconds: secs });
      if (a !== this.a) return;
      this.done = true;
      this.dirty = false;
      this.status.textContent = '';
      put(this.msg, h('div', { class: 'lw-ok', 'data-testid': 'lw-submitted' }, `Submitted: ${r.review === 'pending' ? 'waiting for review' : 'accepted'}. Press N for the next item.`));
      this.submitBtn.hidden = true;
      this.saveBtn.hidden = true;
      this.nextBtn.hidden = false;
      this.ws.readonly = true;
      this.ws.render();
      this.nextBtn.focus();
      this.publish({ submitted: r });
    } catch (err) {
      this.timer.giveBack(secs);
      this.submitBtn.disabled = false;
      if (err instanceof ApiError && err.status === 422 && err.body && Array.isArray(err.body.failures)) {
        put(this.msg, failuresNode(err.body.failures));
        this.publish({ failures: err.body.failures });
      } else {
        put(this.msg, h('div', { class: 'lw-error', role: 'alert' }, `${err.code ? `${err.code}: ` : ''}${err.message}`));
      }
    }
  }

  keys(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      this.submit();
    } else if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S')) {
      e.preventDefault();
      this.save(true);
    } else if ((e.key === 'n' || e.key === 'N') && !isTyping(e) && !e.ctrlKey && !e.metaKey && !e.altKey && (this.done || !this.a)) {
      e.preventDefault();
      this.reload();
    } else if (this.ws && !this.done && this.ws.editor.keys && this.ws.editor.keys(e)) {
      e.preventDefault();
    }
  }
}

// ---- the reviewer's page ---------------------------------------------------------------------------
class ReviewPage {
  constructor({ me, body, project, info }) {
    this.me = me;
    this.body = body;
    this.project = project;
    this.info = info;
    this.timer = new ActiveTimer();
    me.add(() => this.timer.stop());
    me.keys = (e) => this.keys(e);
    this.flash = null;
  }

  publish(extra = {}) {
    const t = this.t;
    publish('label', null, null, { label: { ...this.info, review: t ? { annotation_id: t.annotation_id, assignment_id: t.assignment_id, worker: t.worker, round: t.round } : null, pending: this.pending ? this.pending.slice() : [], payload: () => (this.ws ? this.ws.payload() : null), ...extra } });
  }

  async next() {
    const r = await postJson(`/api/label/projects/${this.project.id}/reviews/next`, {});
    if (!this.me.alive) return;
    this.t = r.review;
    this.pending = [];
    const flash = this.flash ? h('div', { class: 'lw-ok', 'data-testid': 'lw-verdict-sent' }, this.flash) : null;
    this.flash = null;
    if (!this.t) {
      this.ws = null;
      put(this.body, flash || '', h('div', { class: 'empty', 'data-testid': 'label-no-review' }, r.message || 'Nothing to review.', ' ', h('button', { type: 'button', onclick: () => this.reload(), 'data-testid': 'label-check-again' }, 'Check again')));
      this.publish();
      return;
    }
    const t = this.t;
    this.anchor = h('select', { 'data-testid': 'rv-anchor', 'aria-label': 'Anchor' });
    this.text = h('input', { type: 'text', placeholder: 'Comment', 'aria-label': 'Comment', 'data-testid': 'rv-text', class: 'lw-grow' });
    this.list = h('ul', { class: 'lw-pending', 'data-testid': 'rv-pending' });
    this.msg = h('div', { 'data-testid': 'rv-message' });
    this.editing = false;
    const verdict = (v, label, cls) => h('button', { type: 'button', class: cls || null, 'data-testid': `rv-${v}`, onclick: () => this.verdict(v) }, label);
    this.editBtn = h('button', { type: 'button', 'data-testid': 'rv-edit', onclick: () => this.edit() }, 'Edit');
    this.fixBtn = verdict('fix-accept', 'Fix & accept');
    this.fixBtn.disabled = true;
    const checklist = h('ul', { class: 'lw-checklist', 'data-testid': 'rv-checklist' }, (t.checklist || []).map((c) => h('li', { class: c.passed ? 'pass' : 'miss', 'data-testid': 'rv-check', 'data-requirement': c.requirement, 'data-passed': String(Boolean(c.passed)) }, c.passed ? '✓ ' : '✗ ', h('code', {}, c.requirement))));
    const bar = h('div', { class: 'lw-bar' },
      h('strong', {}, `Item ${t.item_id}`),
      h('span', { class: 'muted small', 'data-testid': 'rv-worker' }, `by ${t.worker}`),
      t.round ? h('span', { class: 'badge rework' }, `round ${t.round}`) : null,
      t.gold ? h('span', { class: 'badge' }, 'gold') : null,
      t.escalated ? h('span', { class: 'badge state-rejected' }, 'escalated') : null,
      h('span', { class: 'spacer' }),
      verdict('accept', 'Accept', 'primary'), this.editBtn, this.fixBtn, verdict('rework', 'Send back for rework'), verdict('reject', 'Reject', 'danger'));
    const composer = h('form', { class: 'lw-composer controls', 'data-testid': 'rv-composer', onsubmit: (e) => { e.preventDefault(); this.addComment(); } },
      h('label', {}, 'On ', this.anchor), this.text, h('button', { type: 'submit', 'data-testid': 'rv-add-comment' }, 'Add comment'));
    this.ws = new Workspace({ project: this.project, item: t.item || {}, media: t.media, initial: t.payload || {}, readonly: true, comments: t.comments || [], onPick: (a) => this.pickAnchor(a) });
    this.ws.instructions.append(h('h4', {}, 'Checklist'), checklist);
    this.fillAnchors();
    put(this.body, ...[flash, bar, composer, this.list, this.msg, this.ws.root].filter(Boolean));
    this.publish();
  }

  async reload() {
    try {
      await this.next();
    } catch (err) {
      showError(err);
    }
  }

  fillAnchors(extra) {
    const keep = this.anchor.value;
    const anchors = ['item', ...this.ws.editor.anchors()];
    if (extra && !anchors.includes(extra)) anchors.push(extra);
    for (const o of this.anchor.options) if (!anchors.includes(o.value)) anchors.push(o.value);
    put(this.anchor, ...anchors.map((a) => option(a, a === 'item' ? 'the whole item' : a)));
    this.anchor.value = extra || keep || 'item';
  }

  pickAnchor(anchor) {
    this.fillAnchors(anchor);
    this.text.focus();
  }

  addComment() {
    const text = this.text.value.trim();
    if (!text) return;
    this.pending.push({ anchor: this.anchor.value || 'item', text });
    this.text.value = '';
    this.renderPending();
  }

  renderPending() {
    put(this.list, ...this.pending.map((c, i) => h('li', { 'data-testid': 'rv-pending-comment', 'data-anchor': c.anchor }, h('code', {}, c.anchor), ` ${c.text} `, h('button', { type: 'button', class: 'chip-x', 'aria-label': 'Remove comment', onclick: () => { this.pending.splice(i, 1); this.renderPending(); } }, '×'))));
    this.publish();
  }

  edit() {
    this.editing = true;
    this.ws.readonly = false;
    this.ws.render();
    this.editBtn.disabled = true;
    this.fixBtn.disabled = false;
  }

  async verdict(v) {
    if (!this.t) return;
    if (this.text.value.trim()) this.addComment(); // a typed comment goes with the verdict
    const body = { verdict: v, comments: this.pending, active_seconds: this.timer.take() };
    if (v === 'fix-accept') body.payload = this.ws.payload();
    try {
      await postJson(`/api/label/annotations/${this.t.annotation_id}/review`, body);
    } catch (err) {
      put(this.msg, h('div', { class: 'lw-error', role: 'alert', 'data-testid': 'rv-error' }, `${err.code ? `${err.code}: ` : ''}${err.message}`));
      return;
    }
    this.flash = `${v} sent for item ${this.t.item_id} (${this.t.worker})${this.pending.length ? ` with ${this.pending.length} comment${this.pending.length === 1 ? '' : 's'}` : ''}.`;
    await this.reload();
  }

  keys(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter' && this.t) {
      e.preventDefault();
      this.verdict(this.editing ? 'fix-accept' : 'accept');
    } else if ((e.key === 'n' || e.key === 'N') && !isTyping(e) && !e.ctrlKey && !e.metaKey && !e.altKey && !this.t) {
      e.preventDefault();
      this.reload();
    }
  }
}

// ---- the requester's batches -----------------------------------------------------------------------
async function showBatches({ me, body, project, info }) {
  const { batches } = await getJson(`/api/label/projects/${project.id}/batches`);
  if (!me.alive) return;
  const msg = h('div', { 'data-testid': 'batch-message' });
  const act = async (b, what, feedback) => {
    try {
      await postJson(`/api/label/batches/${b.id}/${what}`, what === 'reject' ? { feedback } : {});
      await showBatches({ me, body, project, info });
    } catch (err) {
      put(msg, h('div', { class: 'lw-error', role: 'alert' }, `${err.code ? `${err.code}: ` : ''}${err.message}`));
    }
  };
  const rows = batches.map((b) => {
    const open = b.state === 'ready-for-review';
    const feedback = h('input', { type: 'text', placeholder: 'feedback for a rejection', 'aria-label': `Feedback for batch ${b.seq}`, 'data-testid': 'batch-feedback', disabled: !open });
    return h('tr', { 'data-testid': 'batch', 'data-id': String(b.id), 'data-state': b.state },
      h('td', {}, `#${b.seq}`),
      h('td', {}, h('span', { class: `badge state-${b.state}`, 'data-testid': 'batch-state' }, b.state)),
      h('td', { class: 'num', 'data-testid': 'batch-counts' }, `${b.resolved} / ${b.items}`),
      h('td', {}, h('details', {}, h('summary', {}, `${(b.history || []).length} events`), h('ol', { class: 'lw-history-list', 'data-testid': 'batch-history' }, (b.history || []).map((e) => h('li', {}, `${new Date(e.at * 1000).toLocaleString()} ${e.state}${e.actor ? ` by ${e.actor}` : ''}${e.feedback ? `: ${e.feedback}` : ''}`))))),
      h('td', { class: 'small' }, b.feedback || ''),
      h('td', {}, h('div', { class: 'controls' },
        h('button', { type: 'button', class: 'primary', 'data-testid': 'batch-accept', disabled: !open, onclick: () => act(b, 'accept') }, 'Accept'),
        feedback,
        h('button', { type: 'button', class: 'danger', 'data-testid': 'batch-reject', disabled: !open, onclick: () => (feedback.value.trim() ? act(b, 'reject', feedback.value.trim()) : feedback.focus()) }, 'Reject'))));
  });
  put(body, 
    h('p', { class: 'muted' }, 'A batch is ready for review when every item in it is resolved. Accept it to release it for export, or reject it with feedback: its items go back to their annotators.'),
    msg,
    batches.length
      ? h('table', { class: 'list lw-batches', 'data-testid': 'batches' }, h('thead', {}, h('tr', {}, ['Batch', 'State', 'Resolved / items', 'History', 'Feedback', ''].map((x) => h('th', {}, x)))), h('tbody', {}, rows))
      : h('div', { class: 'empty' }, 'No batch yet: the manager imports items.'));
  publish('label', null, null, { label: { ...info, batches: batches.map((b) => ({ id: b.id, seq: b.seq, state: b.state, items: b.items, resolved: b.resolved })) } });
}

// ---- the manager's page ----------------------------------------------------------------------------
async function showManage({ me, body, project, info }) {
  const [members, metrics] = await Promise.all([getJson(`/api/label/projects/${project.id}/members`), getJson(`/api/label/projects/${project.id}/metrics`)]);
  if (!me.alive) return;
  const reload = () => showManage({ me, body, project, info }).catch((err) => showError(err));

  // members
  const user = h('input', { type: 'text', placeholder: 'user name', 'aria-label': 'User', 'data-testid': 'member-user' });
  const role = h('select', { 'aria-label': 'Role', 'data-testid': 'member-role' }, ROLES.map((r) => option(r, r)));
  const rate = h('input', { type: 'text', placeholder: 'hourly rate (optional)', 'aria-label': 'Hourly rate', 'data-testid': 'member-rate', class: 'lw-rate' });
  const memberMsg = h('div', { 'data-testid': 'member-message' });
  const addMember = async (e) => {
    e.preventDefault();
    try {
      const b = { user: user.value.trim(), role: role.value };
      if (rate.value.trim()) b.hourly_rate = rate.value.trim();
      await postJson(`/api/label/projects/${project.id}/members`, b);
      await reload();
    } catch (err) {
      put(memberMsg, h('div', { class: 'lw-error', role: 'alert' }, `${err.code ? `${err.code}: ` : ''}${err.message}`));
    }
  };
  const memberBox = h('section', { class: 'lw-box', 'data-testid': 'label-members' },
    h('h3', {}, 'Members'),
    h('table', { class: 'list' }, h('tbody', {}, (members.members || []).map((m) => h('tr', { 'data-testid': 'member', 'data-user': m.user, 'data-role': m.role }, h('td', {}, m.user), h('td', {}, m.role), h('td', { class: 'muted' }, m.hourly_rate ? `$${m.hourly_rate}/h` : ''))))),
    h('form', { class: 'controls', onsubmit: addMember }, user, role, rate, h('button', { type: 'submit', 'data-testid': 'member-add' }, 'Add member')),
    memberMsg);

  // import
  const file = h('input', { type: 'file', accept: '.jsonl,.manifest,.json,application/x-ndjson', 'data-testid': 'import-file', 'aria-label': 'Manifest file' });
  const importMsg = h('div', { 'data-testid': 'import-message' });
  const doImport = async (e) => {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) return;
    try {
      const r = await postText(`/api/label/projects/${project.id}/items`, await f.text(), 'application/x-ndjson');
      file.value = '';
      // the metrics first, so that the message and the new counts show together
      const fresh = await getJson(`/api/label/projects/${project.id}/metrics`);
      metricsBox.replaceWith((metricsBox = metricsNode(fresh)));
      put(importMsg, h('div', { class: 'lw-ok', 'data-testid': 'import-result' }, `Imported ${r.items} item${r.items === 1 ? '' : 's'} from ${f.name} in ${r.batches} batch${r.batches === 1 ? '' : 'es'}.`));
    } catch (err) {
      put(importMsg, h('div', { class: 'lw-error', role: 'alert', 'data-testid': 'import-error' }, `${err.code ? `${err.code}: ` : ''}${err.message}`));
    }
  };
  const importBox = h('section', { class: 'lw-box', 'data-testid': 'label-import' },
    h('h3', {}, 'Import items'),
    h('p', { class: 'muted small' }, 'A Ground Truth input manifest (JSON Lines: "source" text, or "prompt" and "responses" for ranking). Media ("source-ref") are imported with the CLI: sagebox label import PROJECT FILE.'),
    h('form', { class: 'controls', onsubmit: doImport }, file, h('button', { type: 'submit', 'data-testid': 'import-submit' }, 'Import')),
    importMsg);

  // exports
  const formats = EXPORTS[project.kind] || ['gt-manifest'];
  const pairs = h('select', { 'aria-label': 'Pairs', 'data-testid': 'export-pairs' }, ['all-pairs', 'best-vs-rest', 'adjacent'].map((p) => option(p, p)));
  const scope = h('select', { 'aria-label': 'Scope', 'data-testid': 'export-scope' }, option('accepted', 'accepted batches'), option('reviewed', 'all accepted work'));
  const exportMsg = h('div', { 'data-testid': 'export-message' });
  const doExport = async (format) => {
    const params = { format, scope: scope.value };
    if (format === 'preference') params.pairs = pairs.value;
    try {
      const f = await fetchFile(`/api/label/projects/${project.id}/export`, params);
      const url = URL.createObjectURL(f.blob);
      const a = h('a', { href: url, download: f.filename || `${project.name}-${format}`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      put(exportMsg, h('div', { class: 'lw-ok', 'data-testid': 'export-result' }, `${f.filename}: ${f.headers.get('X-Sagebox-Export-Items') || '?'} items, sha256 ${f.headers.get('X-Sagebox-Export-Sha256') || '?'}`));
    } catch (err) {
      put(exportMsg, h('div', { class: 'lw-error', role: 'alert', 'data-testid': 'export-error' }, `${err.code ? `${err.code}: ` : ''}${err.message}`));
    }
  };
  const exportBox = h('section', { class: 'lw-box', 'data-testid': 'label-exports' },
    h('h3', {}, 'Export'),
    h('div', { class: 'controls' },
      formats.map((f) => h('button', { type: 'button', 'data-testid': `export-${f}`, onclick: () => doExport(f) }, `Download ${f}`)),
      formats.includes('preference') ? h('label', {}, 'pairs ', pairs) : null,
      h('label', {}, 'scope ', scope)),
    exportMsg);

  let metricsBox = metricsNode(metrics);
  put(body, h('div', { class: 'lw-manage' }, h('div', {}, metricsBox, exportBox), h('div', {}, importBox, memberBox)));
  publish('label', null, null, { label: { ...info, metrics, members: members.members || [] } });
}

function metricsNode(m) {
  const people = m.people || [];
  return h('section', { class: 'lw-box', 'data-testid': 'label-metrics' },
    h('h3', {}, 'Metrics'),
    h('div', { class: 'figures' },
      figure('Items', String(m.items ?? 0), 'metric-items', String(m.items ?? 0)),
      figure('Submissions', String(m.submissions ?? 0), 'metric-submissions', String(m.submissions ?? 0)),
      figure('Accepted', String(m.accepted ?? 0), 'metric-accepted', String(m.accepted ?? 0)),
      figure('First-review acceptance', pct(m.first_review_acceptance), 'metric-first-review', m.first_review_acceptance === null ? null : String(m.first_review_acceptance)),
      figure('Rework rounds (mean / max)', `${num(m.rework_rounds && m.rework_rounds.mean, 2)} / ${(m.rework_rounds && m.rework_rounds.max) ?? '—'}`, 'metric-rework'),
      figure('Gold accuracy', pct(m.gold && m.gold.accuracy), 'metric-gold'),
      figure('Active s per task', num(m.active_seconds_per_task), 'metric-active'),
      figure('Cost per accepted label', m.cost_per_accepted_label === null || m.cost_per_accepted_label === undefined ? '—' : `$${m.cost_per_accepted_label}`, 'metric-cost', m.cost_per_accepted_label ?? null)),
    m.agreement && typeof m.agreement === 'object' && Object.keys(m.agreement).length
      ? h('div', { class: 'small', 'data-testid': 'metric-agreement' }, 'Agreement: ', Object.entries(m.agreement).map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : JSON.stringify(v)}`).join(' · '))
      : null,
    h('table', { class: 'list lw-people', 'data-testid': 'metric-people' },
      h('thead', {}, h('tr', {}, ['Person', 'Tasks', 'Submissions', 'Accepted', 'First-review acceptance', 'Gold accuracy', 'Active s', 'Review s', 'Cost'].map((x) => h('th', {}, x)))),
      h('tbody', {}, people.map((p) => h('tr', { 'data-testid': 'metric-person', 'data-user': p.user },
        h('td', {}, p.user), h('td', { class: 'num' }, String(p.tasks)), h('td', { class: 'num' }, String(p.submissions)), h('td', { class: 'num', 'data-testid': 'person-accepted' }, String(p.accepted)),
        h('td', { class: 'num' }, pct(p.first_review_acceptance)), h('td', { class: 'num' }, pct(p.gold_accuracy)), h('td', { class: 'num', 'data-testid': 'person-active' }, String(p.active_seconds)),
        h('td', { class: 'num' }, String(p.review_seconds ?? 0)), h('td', { class: 'num' }, `$${p.cost}`))))));
}
