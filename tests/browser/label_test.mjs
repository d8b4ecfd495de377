// Browser test of the Label tab (`#/label/projects`): issue 15's quality loop clicked through
// in headless Debian Chromium at 1366×768 over `sagebox serve`, one browser context (and
// session) per user. The CLI sets up what is not the point of the test: users with passwords,
// the converted manifests (`sagebox label convert --from oasst|squad`, trimmed to a few items)
// and an image-caption and a video-caption project with media imported by the admin CLI.
// Then, in the page:
//   1. mia (manager) creates a ranking and a qa-pairs project in the create form, imports the
//      manifests through the file input and adds the members;
//   2. ann and bob annotate: ranks by drag and drop and by keyboard (Alt+↑), spans by selecting
//      passage text with the mouse; a submit that misses a requirement shows it by name;
//   3. rita (reviewer) sends ann's QA item back with a comment anchored to a passage span
//      (selected in the read-only passage) and accepts the rest;
//   4. ann gets it back with the comment shown on the span, fixes it, rita accepts it;
//   5. rex (requester) accepts the batches; 6. mia sees the metrics (compared with the API)
//      and downloads the preference export: N(N-1)/2 pairs per prompt and dimension, as ranked;
//   7. ann adds a dot on the image and a segment on the video and submits both.
// The end state is cross-checked through the API with the users' tokens. Screenshots of every
// workspace and view go to SAGEBOX_ARTIFACTS.
//
// Usage: node tests/browser/label_test.mjs path/to/sagebox
//   env SAGEBOX_ARTIFACTS=DIR    screenshots go there (default tests/browser/artifacts/)
//   env SAGEBOX_TEST_DIST=DIR    the browser gets index.html, app.js and app.css from DIR (a
//                                `node web/build.mjs DIR`) instead of the server
// Needs `npm ci` in web/ (playwright-core) and /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  check, launchChromium, launchServer, noteRejectionsAfterFailedSteps, repo, run, sageboxFromArgs,
  screenshots, serveDist, serverCount, settled, signIn, step,
} from './harness.mjs';

const sagebox = sageboxFromArgs(import.meta.url);
const DIST = process.env.SAGEBOX_TEST_DIST ? resolve(process.env.SAGEBOX_TEST_DIST) : null;
const shot = screenshots({ fullPage: true });
const tmp = mkdtempSync(join(tmpdir(), 'sagebox-label-browser-'));
const data = join(tmp, 'data');
const testdata = join(repo, 'tests/data/label');
noteRejectionsAfterFailedSteps();

const cli = (...argv) => execFileSync(sagebox, ['--data', data, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
const USERS = ['mia', 'ann', 'bob', 'rita', 'rex'];
const password = (u) => `${u}-secret-pw`;
const tokens = {};

// ---- the API, as a user (bearer token) ------------------------------------------------------------
let base = null;
async function api(user, method, path, body) {
  const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${tokens[user]}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${user} ${method} ${path}: HTTP ${r.status} ${text.slice(0, 300)}`);
  return { json: (r.headers.get('Content-Type') || '').startsWith('application/json') ? JSON.parse(text) : null, text, headers: r.headers };
}

// ---- page helpers ---------------------------------------------------------------------------------
const label = (page) => page.evaluate(() => {
  const l = window.__sagebox && window.__sagebox.label;
  if (!l) return null;
  return { ...l, payload: typeof l.payload === 'function' ? l.payload() : null };
});
// A fresh page load each time: a hash change alone would leave the last view's hooks in place
// until the new view renders.
async function open(page, hash, what) {
  await page.goto('about:blank');
  await page.goto(`${base}/${hash}`);
  await settled(page, what);
}
const projectUrl = (id, page) => `#/label/projects?project=${id}&page=${page}`;

// Drags the responses of `dim` into `order` (best first), one HTML5 drag per misplaced item,
// dropped on the upper part of the item at the target position (= before it).
async function rankByDrag(page, dim, order) {
  const list = page.locator(`[data-testid=rank-list][data-dimension="${dim}"]`);
  for (let i = 0; i < order.length; i++) {
    const now = await list.locator('[data-testid=rank-item]').evaluateAll((els) => els.map((e) => e.dataset.id));
    if (now[i] === order[i]) continue;
    await list.locator(`[data-testid=rank-item][data-id="${order[i]}"]`).dragTo(list.locator('[data-testid=rank-item]').nth(i), { targetPosition: { x: 20, y: 3 } });
    await page.waitForFunction(([d, k, id]) => document.querySelectorAll(`[data-testid=rank-list][data-dimension="${d}"] [data-testid=rank-item]`)[k]?.dataset.id === id, [dim, i, order[i]]);
  }
}

// Selects passage code points [start, end) with the mouse: press on the left half of the first
// character, release on the right half of the last one.
async function selectPassage(page, start, end) {
  const [a, b] = await page.evaluate(([s, e]) => {
    const passage = document.querySelector('[data-testid=lw-passage]');
    const rectOf = (cp) => {
      for (const seg of passage.querySelectorAll('.seg')) {
        const s0 = Number(seg.dataset.start);
        const s1 = Number(seg.dataset.end);
        if (cp < s0 || cp >= s1) continue;
        const text = seg.firstChild.data;
        const u = Array.from(text).slice(0, cp - s0).join('').length;
        const len = Array.from(text)[cp - s0].length;
        const r = document.createRange();
        r.setStart(seg.firstChild, u);
        r.setEnd(seg.firstChild, u + len);
        const box = r.getClientRects()[0];
        return { x: box.left, y: box.top + box.height / 2, w: box.width };
      }
      return null;
    };
    return [rectOf(s), rectOf(e - 1)];
  }, [start, end]);
  await page.mouse.move(a.x + Math.min(2, a.w / 4), a.y);
  await page.mouse.down();
  await page.mouse.move(b.x + b.w / 2, b.y, { steps: 5 });
  await page.mouse.move(b.x + b.w - Math.min(2, b.w / 4), b.y, { steps: 2 });
  await page.mouse.up();
}

async function submitExpectOk(page, what) {
  const res = page.waitForResponse((r) => /\/api\/label\/assignments\/\d+\/submit$/.test(new URL(r.url()).pathname));
  await page.click('[data-testid=lw-submit]');
  const r = await res;
  check(r.status() === 200, `${what}: submit answered HTTP ${r.status()} ${await r.text()}`);
  await page.waitForSelector('[data-testid=lw-submitted]');
  return r.request().postDataJSON();
}

await run(tmp, async () => {
  // ---- setup by the CLI ------------------------------------------------------------------------------
  for (const u of USERS) {
    execFileSync(sagebox, ['--data', data, 'users', 'add', u, '--role', 'user', '--password-stdin'], { input: `${password(u)}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
    tokens[u] = cli('users', 'token', u).trim();
  }
  // the converted datasets, trimmed so that the clicking stays short: 3 ranking items
  // (3, 2 and 2 responses) and 2 passages
  const prefsAll = cli('label', 'convert', '--from', 'oasst', join(testdata, 'oasst_en_5_tree.jsonl')).split('\n').filter(Boolean);
  const qaAll = cli('label', 'convert', '--from', 'squad', join(testdata, 'xquad.en.first2.json')).split('\n').filter(Boolean);
  const prefsFile = join(tmp, 'prefs.jsonl');
  const qaFile = join(tmp, 'qa.jsonl');
  writeFileSync(prefsFile, prefsAll.slice(0, 3).join('\n') + '\n');
  writeFileSync(qaFile, qaAll.slice(0, 2).join('\n') + '\n');
  const prefItems = prefsAll.slice(0, 3).map((l) => JSON.parse(l));
  const qaItems = qaAll.slice(0, 2).map((l) => JSON.parse(l));
  // media projects by the admin CLI (source-ref needs the server's files)
  const video = join(tmp, 'sintel.mp4');
  writeFileSync(video, Buffer.concat([readFileSync(join(testdata, 'shaka_sintel-video-init.mp4')), readFileSync(join(testdata, 'shaka_sintel-video-segment.mp4'))]));
  writeFileSync(join(tmp, 'pics.json'), JSON.stringify({ instructions: 'Click each object, name it, then caption the photo.', requirements: { min_objects: 1, caption_words: { min: 3 } } }));
  writeFileSync(join(tmp, 'clips.json'), JSON.stringify({ instructions: 'Mark what happens and caption the clip.', requirements: { min_activities: 1 } }));
  // two items: one to caption, one for the active-time step
  writeFileSync(join(tmp, 'pics.jsonl'), [1, 2].map((n) => JSON.stringify({ 'source-ref': join(testdata, '000000229358.jpg'), coco_id: 229358, copy: n }) + '\n').join(''));
  // duration: the clip's MP4 says 888 s (tests/data/label/PROVENANCE.md), and so does Chromium
  writeFileSync(join(tmp, 'clips.jsonl'), JSON.stringify({ 'source-ref': video, duration: 888 }) + '\n');
  cli('label', 'project', 'create', 'pics', '--kind', 'image-caption', '--config', join(tmp, 'pics.json'));
  cli('label', 'project', 'create', 'clips', '--kind', 'video-caption', '--config', join(tmp, 'clips.json'));
  cli('label', 'import', 'pics', join(tmp, 'pics.jsonl'));
  cli('label', 'import', 'clips', join(tmp, 'clips.jsonl'));
  for (const p of ['pics', 'clips']) cli('label', 'members', 'add', p, 'ann', 'annotator');

  const portFile = join(tmp, `port-${serverCount()}`);
  base = await launchServer(sagebox, ['--data', data, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
  console.log(`server at ${base}, data in ${data}`);

  const browser = await launchChromium();
  const pages = {};
  const errors = [];
  for (const u of USERS) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
    await serveDist(context, DIST);
    if (u !== 'mia') await signIn(context, base, u, password(u));
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${u}: ${e}`));
    page.on('console', (m) => m.type() === 'error' && !/status of 422|Failed to load resource/.test(m.text()) && errors.push(`${u} console: ${m.text()}`));
    page.on('dialog', (d) => {
      errors.push(`${u} dialog: ${d.message()}`);
      d.dismiss();
    });
    pages[u] = page;
  }
  const { mia, ann, bob, rita, rex } = pages;
  const ids = {};

  await step('mia signs in and creates a ranking project in the form', async () => {
    await mia.goto(`${base}/#/label/projects`);
    await mia.waitForFunction(() => document.body.dataset.state === 'login', null, { timeout: 30000 });
    await mia.getByLabel('Name', { exact: true }).fill('mia');
    await mia.getByLabel('Password', { exact: true }).fill(password('mia'));
    await mia.getByLabel('Password', { exact: true }).press('Enter');
    await settled(mia, 'label tab after sign-in');
    check(await mia.locator('[data-testid=tab-label]').isVisible(), 'no Label tab in the top bar');
    check(await mia.locator('[data-testid=label-no-projects]').isVisible(), 'mia sees projects before making any');
    await shot(mia, 'label-01-projects-empty');
    await mia.fill('[data-testid=label-new-name]', 'prefs');
    await mia.selectOption('[data-testid=label-new-kind]', 'ranking');
    await mia.fill('[data-testid=label-new-config]', JSON.stringify({ instructions: 'Rank the replies from most to least helpful, and by accuracy.', batch_size: 10, requirements: { dimensions: ['helpfulness', 'accuracy'] } }, null, 2));
    await mia.click('[data-testid=label-create-submit]');
    await mia.waitForSelector('[data-testid=label-manage]');
    await settled(mia, 'manage page');
    const l = await label(mia);
    check(l.page === 'manage' && l.name === 'prefs' && l.kind === 'ranking' && l.roles.includes('manager'), `after create: ${JSON.stringify(l)}`);
    ids.prefs = l.project;
  });

  await step('mia imports the converted OpenAssistant manifest through the file input and adds members', async () => {
    await mia.setInputFiles('[data-testid=import-file]', prefsFile);
    await mia.click('[data-testid=import-submit]');
    await mia.waitForSelector('[data-testid=import-result]');
    const said = await mia.textContent('[data-testid=import-result]');
    check(said === 'Imported 3 items from prefs.jsonl in 1 batch.', `import said "${said}"`);
    check((await mia.getAttribute('[data-testid=metric-items] .figure-value', 'data-amount')) === '3', 'metrics do not show 3 items after the import');
    for (const [u, role] of [['ann', 'annotator'], ['bob', 'annotator'], ['rita', 'reviewer'], ['rex', 'requester']]) {
      await mia.fill('[data-testid=member-user]', u);
      await mia.selectOption('[data-testid=member-role]', role);
      await mia.click('[data-testid=member-add]');
      await mia.waitForSelector(`[data-testid=member][data-user=${u}][data-role=${role}]`);
    }
    const { json } = await api('mia', 'GET', `/api/label/projects/${ids.prefs}/members`);
    const got = json.members.map((m) => `${m.user}:${m.role}`).sort();
    check(JSON.stringify(got) === JSON.stringify(['ann:annotator', 'bob:annotator', 'mia:manager', 'rex:requester', 'rita:reviewer']), `members by the API: ${got}`);
    await shot(mia, 'label-02-manage-prefs');
  });

  await step('mia creates the qa-pairs project, imports the XQuAD passages, adds members', async () => {
    await open(mia, '#/label/projects', 'projects list');
    const listed = (await label(mia)).projects.map((p) => p.name);
    check(listed.includes('prefs') && !listed.includes('pics'), `mia's projects: ${listed}`);
    await mia.fill('[data-testid=label-new-name]', 'qa');
    await mia.selectOption('[data-testid=label-new-kind]', 'qa-pairs');
    await mia.fill('[data-testid=label-new-config]', JSON.stringify({ instructions: 'Write question/answer pairs; highlight the evidence of each.', question_types: ['factual', 'reasoning'], batch_size: 10, requirements: { min_pairs: 1 } }));
    await mia.click('[data-testid=label-create-submit]');
    await mia.waitForSelector('[data-testid=label-manage]');
    await settled(mia, 'qa manage page');
    ids.qa = (await label(mia)).project;
    await mia.setInputFiles('[data-testid=import-file]', qaFile);
    await mia.click('[data-testid=import-submit]');
    await mia.waitForSelector('[data-testid=import-result]');
    for (const [u, role] of [['ann', 'annotator'], ['bob', 'annotator'], ['rita', 'reviewer'], ['rex', 'requester']]) {
      await mia.fill('[data-testid=member-user]', u);
      await mia.selectOption('[data-testid=member-role]', role);
      await mia.click('[data-testid=member-add]');
      await mia.waitForSelector(`[data-testid=member][data-user=${u}][data-role=${role}]`);
    }
    const { json } = await api('mia', 'GET', `/api/label/projects/${ids.qa}/status`);
    check(json.items === 2, `qa status by the API: ${JSON.stringify(json)}`);
  });

  const prefOrder = (item) => item.responses.map((r) => r.id).sort((x, y) => item.human_ranks[x] - item.human_ranks[y]);
  const itemOf = (a) => prefItems.find((x) => x.message_id === a.item.message_id);
  const submittedPrefs = {}; // message_id -> helpfulness order

  await step('ann: an unranked submit fails all_ranked; ranks by drag (helpfulness) and Alt+↑ (accuracy)', async () => {
    await open(ann, projectUrl(ids.prefs, 'annotate'), 'ann annotate prefs');
    check(JSON.stringify((await label(ann)).roles) === '["annotator"]', 'ann roles');
    const tabs = await ann.locator('.lw-tabs a').evaluateAll((as) => as.map((a) => a.dataset.testid));
    check(JSON.stringify(tabs) === '["label-page-annotate"]', `an annotator's pages: ${tabs}`);
    const l = await label(ann);
    const a = (await api('ann', 'GET', `/api/label/assignments/${l.assignment.id}`)).json;
    const item = itemOf(a);
    check(item, `assignment item ${JSON.stringify(a.item).slice(0, 200)}`);
    check((await ann.textContent('[data-testid=lw-prompt]')) === item.prompt, 'the prompt shown is not the item\'s');
    check((await ann.locator('[data-testid=lw-response]').count()) === item.responses.length, 'responses shown');
    const refused = ann.waitForResponse((r) => r.url().endsWith('/submit'));
    await ann.keyboard.press('Control+Enter');
    check((await refused).status() === 422, 'an unranked submit was not refused');
    await ann.waitForSelector('[data-testid=lw-failures]');
    const reqs = await ann.locator('[data-testid=lw-failure]').evaluateAll((ls) => ls.map((x) => x.dataset.requirement));
    check(reqs.includes('all_ranked'), `failures shown: ${reqs}`);
    await shot(ann, 'label-03-ranking-failure');
    const want = prefOrder(item);
    await rankByDrag(ann, 'helpfulness', want);
    // accuracy by keyboard: the last response to the top with Alt+↑
    const acc = ann.locator('[data-testid=rank-list][data-dimension=accuracy] [data-testid=rank-item]');
    const before = await acc.evaluateAll((els) => els.map((e) => e.dataset.id));
    const last = before[before.length - 1];
    await acc.last().focus();
    for (let i = 0; i < before.length - 1; i++) await ann.keyboard.press('Alt+ArrowUp');
    const after = await acc.evaluateAll((els) => els.map((e) => e.dataset.id));
    check(after[0] === last && after.length === before.length, `Alt+↑ order ${after}, from ${before}`);
    check((await ann.evaluate(() => document.activeElement.dataset.id)) === last, 'the moved response lost the focus');
    await ann.keyboard.press('ArrowDown'); // selection moves, order stays
    check(JSON.stringify(await acc.evaluateAll((els) => els.map((e) => e.dataset.id))) === JSON.stringify(after), '↓ without Alt moved a response');
    await ann.fill('[data-testid=rank-rationale] >> nth=0', 'The first reply answers the question directly.');
    const p = (await label(ann)).payload;
    check(JSON.stringify(p.rankings) === JSON.stringify([{ dimension: 'helpfulness', order: want }, { dimension: 'accuracy', order: after }]), `payload ${JSON.stringify(p)}`);
    await shot(ann, 'label-04-ranking-workspace');
    // Ctrl+S saves a draft with the active seconds
    const saved = ann.waitForResponse((r) => r.request().method() === 'PUT');
    await ann.keyboard.press('Control+s');
    const put = await saved;
    check(put.ok() && Number.isInteger(put.request().postDataJSON().active_seconds), `draft save ${put.status()} ${put.request().postData()}`);
    const sent = await submitExpectOk(ann, 'ann prefs 1');
    check(JSON.stringify(sent.payload.rankings[0].order) === JSON.stringify(want), 'submitted order');
    submittedPrefs[item.message_id] = want;
  });

  // One ranking item: helpfulness dragged into the dataset's human order (or confirmed when it
  // already is), accuracy kept as shown; submitted.
  async function rankOne(page, user) {
    const l = await label(page);
    const a = (await api(user, 'GET', `/api/label/assignments/${l.assignment.id}`)).json;
    const item = itemOf(a);
    const want = prefOrder(item);
    await rankByDrag(page, 'helpfulness', want);
    if (want.join() === item.responses.map((r) => r.id).join()) await page.click('[data-testid=rank-dimension][data-dimension=helpfulness] [data-testid=rank-keep]');
    await page.click('[data-testid=rank-dimension][data-dimension=accuracy] [data-testid=rank-keep]');
    await submitExpectOk(page, `${user} prefs item ${a.item_id}`);
    submittedPrefs[item.message_id] = want;
  }

  await step('bob and ann rank the other two items', async () => {
    await open(bob, projectUrl(ids.prefs, 'annotate'), 'bob annotate prefs');
    await rankOne(bob, 'bob');
    // ann: N after a submit opens the next item
    const before = (await label(ann)).assignment.id;
    await ann.keyboard.press('n');
    await ann.waitForFunction((id) => { const l = window.__sagebox.label; return l && !l.done && l.assignment && l.assignment.id !== id; }, before);
    await rankOne(ann, 'ann');
    await ann.keyboard.press('n');
    await ann.waitForSelector('[data-testid=label-no-work]');
    check((await label(ann)).assignment === null, 'ann has more work after 2 items');
    check(Object.keys(submittedPrefs).length === 3, `submitted ${Object.keys(submittedPrefs).length} ranking items`);
  });

  const qaSpan = (item) => {
    const ref = item.reference_qas[0];
    const ans = ref.answers[0];
    return { question: ref.question, answer: ans.text, start: ans.answer_start, end: ans.answer_start + Array.from(ans.text).length };
  };
  const qaIdOf = (a) => qaItems.findIndex((x) => x.source === a.item.source);

  await step('ann: a pair without a span fails "spans"; selecting passage text adds the span in the pair\'s colour', async () => {
    await open(ann, projectUrl(ids.qa, 'annotate'), 'ann annotate qa');
    const l = await label(ann);
    const a = (await api('ann', 'GET', `/api/label/assignments/${l.assignment.id}`)).json;
    const k = qaIdOf(a);
    check(k >= 0, 'qa item not found');
    ids.annQaItem = a.item_id;
    check((await ann.textContent('[data-testid=lw-passage]')) === qaItems[k].source, 'the passage shown differs from the item\'s source');
    const s = qaSpan(qaItems[k]);
    await ann.fill('[data-testid=pair-question]', s.question);
    await ann.fill('[data-testid=pair-answer]', s.answer);
    await ann.selectOption('[data-testid=pair-type]', 'factual');
    const refused = ann.waitForResponse((r) => r.url().endsWith('/submit'));
    await ann.click('[data-testid=lw-submit]');
    check((await refused).status() === 422, 'a pair without spans was not refused');
    await ann.waitForSelector('[data-testid=lw-failure][data-requirement=spans]');
    await selectPassage(ann, s.start, s.end);
    await ann.waitForSelector('[data-testid=pair-span]');
    const span = await ann.locator('[data-testid=pair-span]').evaluate((e) => [Number(e.dataset.start), Number(e.dataset.end)]);
    check(span[0] === s.start && span[1] === s.end, `span [${span}] from the selection, the dataset's answer is [${s.start}, ${s.end})`);
    const hl = await ann.locator('[data-testid=lw-highlight]').evaluateAll((els) => els.map((e) => ({ text: e.textContent, pairs: e.dataset.pairs, style: e.getAttribute('style') })));
    check(hl.map((x) => x.text).join('') === s.answer && hl.every((x) => x.pairs === 'p0' && x.style.includes('#2563eb')), `highlights ${JSON.stringify(hl)}`);
    await shot(ann, 'label-05-qa-workspace');
    const sent = await submitExpectOk(ann, 'ann qa');
    check(JSON.stringify(sent.payload.qa_pairs[0].spans) === JSON.stringify([{ start: s.start, end: s.end }]), `submitted ${JSON.stringify(sent.payload)}`);
    ids.annQaSpan = s;
  });

  await step('bob: a second pair that references the entire passage', async () => {
    await open(bob, projectUrl(ids.qa, 'annotate'), 'bob annotate qa');
    const l = await label(bob);
    const a = (await api('bob', 'GET', `/api/label/assignments/${l.assignment.id}`)).json;
    const k = qaIdOf(a);
    const s = qaSpan(qaItems[k]);
    await bob.fill('[data-testid=pair-question]', s.question);
    await bob.fill('[data-testid=pair-answer]', s.answer);
    await selectPassage(bob, s.start, s.end);
    await bob.waitForSelector('[data-testid=pair-span]');
    await bob.click('[data-testid=pair-add]');
    const second = bob.locator('[data-testid=pair]').nth(1);
    await second.locator('[data-testid=pair-question]').fill('What is this passage about?');
    await second.locator('[data-testid=pair-answer]').fill(qaItems[k].title.replace(/_/g, ' '));
    await second.locator('[data-testid=pair-type]').selectOption('reasoning');
    await second.locator('[data-testid=pair-entire]').check();
    await shot(bob, 'label-06-qa-two-pairs');
    const sent = await submitExpectOk(bob, 'bob qa');
    check(sent.payload.qa_pairs.length === 2 && sent.payload.qa_pairs[1].refs_entire_passage === true && sent.payload.qa_pairs[1].spans.length === 0, `submitted ${JSON.stringify(sent.payload)}`);
  });

  await step('rita reviews: accepts the rankings, sends ann\'s QA item back with a comment on a span', async () => {
    await open(rita, projectUrl(ids.prefs, 'review'), 'rita review prefs');
    const tabs = await rita.locator('.lw-tabs a').evaluateAll((as) => as.map((a) => a.dataset.testid));
    check(JSON.stringify(tabs) === '["label-page-review"]', `a reviewer's pages: ${tabs}`);
    check((await rita.locator('[data-testid=rv-check]').count()) > 0, 'no checklist');
    check(await rita.locator('[data-testid=rank-item]').first().getAttribute('draggable') === null, 'the reviewer\'s ranks are draggable');
    await shot(rita, 'label-07-review-ranking');
    for (let i = 0; i < 3; i++) {
      const l = await label(rita);
      check(l.review, `review ${i + 1}: nothing to review`);
      await rita.click('[data-testid=rv-accept]');
      await rita.waitForFunction((id) => !window.__sagebox.label.review || window.__sagebox.label.review.annotation_id !== id, l.review.annotation_id);
    }
    await rita.waitForSelector('[data-testid=label-no-review]');
    await open(rita, projectUrl(ids.qa, 'review'), 'rita review qa');
    for (let i = 0; i < 2; i++) {
      const l = await label(rita);
      if (l.review.worker !== 'ann') {
        await rita.click('[data-testid=rv-accept]');
        await rita.waitForFunction((id) => !window.__sagebox.label.review || window.__sagebox.label.review.annotation_id !== id, l.review.annotation_id);
        continue;
      }
      // select the first word of the span in the read-only passage: the anchor becomes span:S-E
      const s = ids.annQaSpan;
      const firstWord = Array.from(s.answer).join('').split(' ')[0];
      const e = s.start + Array.from(firstWord).length;
      await selectPassage(rita, s.start, e);
      check((await rita.inputValue('[data-testid=rv-anchor]')) === `span:${s.start}-${e}`, `anchor after selecting: ${await rita.inputValue('[data-testid=rv-anchor]')}`);
      await rita.fill('[data-testid=rv-text]', 'Quote the whole answer, not just this word.');
      await rita.click('[data-testid=rv-add-comment]');
      // and one on the pair, picked by clicking its card
      await rita.click('[data-testid=pair][data-id=p0] .lw-card-head strong');
      check((await rita.inputValue('[data-testid=rv-anchor]')) === 'pair:p0', 'clicking the pair did not pick it');
      await rita.fill('[data-testid=rv-text]', 'Add a reasoning question too.');
      await rita.click('[data-testid=rv-add-comment]');
      check((await rita.locator('[data-testid=rv-pending-comment]').count()) === 2, 'pending comments');
      await shot(rita, 'label-08-review-qa-comments');
      const sent = rita.waitForResponse((r) => r.url().endsWith('/review'));
      await rita.click('[data-testid=rv-rework]');
      const answer = await sent;
      check(answer.ok(), `rework verdict: HTTP ${answer.status()} ${await answer.text()}`);
      const body = answer.request().postDataJSON();
      check(body.verdict === 'rework' && JSON.stringify(body.comments) === JSON.stringify([{ anchor: `span:${s.start}-${e}`, text: 'Quote the whole answer, not just this word.' }, { anchor: 'pair:p0', text: 'Add a reasoning question too.' }]), `review body ${JSON.stringify(body)}`);
      ids.spanAnchor = `span:${s.start}-${e}`;
      await rita.waitForSelector('[data-testid=lw-verdict-sent]');
    }
    check(ids.spanAnchor, 'ann\'s QA item never came up for review');
    await rita.waitForSelector('[data-testid=label-no-review]');
  });

  await step('ann gets the item back with the comments where they point, fixes it; rita accepts', async () => {
    await open(ann, projectUrl(ids.qa, 'annotate'), 'ann rework');
    const l = await label(ann);
    check(l.assignment && l.assignment.state === 'rework' && l.assignment.round === 1 && l.assignment.item_id === ids.annQaItem, `rework assignment ${JSON.stringify(l.assignment)}`);
    const onPair = await ann.locator('[data-testid=pair][data-id=p0] [data-testid=anchored-comment]').textContent();
    check(onPair.includes('Add a reasoning question too.') && onPair.includes('rita'), `comment on the pair: ${onPair}`);
    const onSpan = await ann.locator(`[data-testid=lw-work] [data-testid=anchored-comment][data-anchor="${ids.spanAnchor}"]`).textContent();
    check(onSpan.includes('Quote the whole answer'), `comment on the span: ${onSpan}`);
    const noted = await ann.locator('[data-testid=lw-passage] [data-noted=true]').evaluateAll((els) => els.map((e) => e.textContent).join(''));
    check(noted === ids.annQaSpan.answer.split(' ')[0], `the passage marks "${noted}" as commented`);
    check((await ann.locator('[data-testid=pair]').count()) === 1, 'the draft did not come back with the work');
    await shot(ann, 'label-09-rework-with-comments');
    await ann.click('[data-testid=pair-add]');
    const second = ann.locator('[data-testid=pair]').nth(1);
    await second.locator('[data-testid=pair-question]').fill('Why does the passage mention this?');
    await second.locator('[data-testid=pair-answer]').fill('Because it is the main point of the paragraph.');
    await second.locator('[data-testid=pair-type]').selectOption('reasoning');
    await second.locator('[data-testid=pair-entire]').check();
    for (let i = 0; i < 5; i++) { // a little more work: the active seconds go with the submit
      await ann.mouse.move(300 + i * 20, 400);
      await ann.waitForTimeout(500);
    }
    const sent = await submitExpectOk(ann, 'ann rework');
    check(sent.payload.qa_pairs.length === 2, 'fixed payload');
    check(sent.active_seconds >= 1, `active_seconds ${sent.active_seconds} sent with the fix`);
    await rita.click('[data-testid=label-check-again]');
    await rita.waitForSelector('[data-testid=rv-accept]');
    const r = await label(rita);
    check(r.review.round === 1 && r.review.worker === 'ann', `rework round under review: ${JSON.stringify(r.review)}`);
    const earlier = await rita.locator('[data-testid=anchored-comment]').count();
    check(earlier === 2, `the reviewer sees ${earlier} earlier comments`);
    await rita.click('[data-testid=rv-accept]');
    await rita.waitForSelector('[data-testid=label-no-review]');
  });

  await step('rex accepts both batches on the batch page', async () => {
    for (const p of ['prefs', 'qa']) {
      await open(rex, projectUrl(ids[p], 'batches'), `rex batches ${p}`);
      const row = rex.locator('[data-testid=batch]').first();
      check((await row.getAttribute('data-state')) === 'ready-for-review', `${p} batch state ${await row.getAttribute('data-state')}`);
      const counts = await row.locator('[data-testid=batch-counts]').textContent();
      check(counts === (p === 'prefs' ? '3 / 3' : '2 / 2'), `${p} counts ${counts}`);
      if (p === 'prefs') await shot(rex, 'label-10-batches');
      await row.locator('[data-testid=batch-accept]').click();
      await rex.waitForSelector('[data-testid=batch][data-state=accepted]');
      const hist = await rex.locator('[data-testid=batch-history] li').allTextContents();
      check(hist.some((h) => /accepted by rex/.test(h)), `history ${hist}`);
    }
    const { json } = await api('rex', 'GET', `/api/label/projects/${ids.prefs}/batches`);
    check(json.batches.every((b) => b.state === 'accepted'), `batches by the API ${JSON.stringify(json.batches.map((b) => b.state))}`);
  });

  await step('mia sees the metrics (as the API has them) and downloads the preference export', async () => {
    await open(mia, projectUrl(ids.prefs, 'manage'), 'mia manage prefs');
    const m = (await api('mia', 'GET', `/api/label/projects/${ids.prefs}/metrics`)).json;
    const shown = await mia.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid^=metric-] .figure-value')].map((e) => [e.parentElement.dataset.testid, e.textContent])));
    check(shown['metric-accepted'] === String(m.accepted) && m.accepted === 3, `accepted shown ${shown['metric-accepted']}, API ${m.accepted}`);
    check(shown['metric-first-review'] === `${(m.first_review_acceptance * 100).toFixed(1)}%`, `first-review acceptance shown ${shown['metric-first-review']}, API ${m.first_review_acceptance}`);
    const people = await mia.locator('[data-testid=metric-person]').evaluateAll((rs) => rs.map((r) => [r.dataset.user, r.querySelector('[data-testid=person-accepted]').textContent]));
    const want = m.people.map((p) => [p.user, String(p.accepted)]);
    check(JSON.stringify(people) === JSON.stringify(want), `people ${JSON.stringify(people)}, API ${JSON.stringify(want)}`);
    await shot(mia, 'label-11-metrics');
    const [dl] = await Promise.all([mia.waitForEvent('download'), mia.click('[data-testid=export-preference]')]);
    const lines = readFileSync(await dl.path(), 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x));
    await mia.waitForSelector('[data-testid=export-result]');
    const sha = /sha256 ([0-9a-f]{64})/.exec(await mia.textContent('[data-testid=export-result]'));
    check(sha, 'no sha256 shown for the export');
    for (const item of prefItems) {
      const n = item.responses.length;
      const text = Object.fromEntries(item.responses.map((r) => [r.id, r.text]));
      const order = submittedPrefs[item.message_id];
      const pos = Object.fromEntries(order.map((id, k) => [text[id], k]));
      const got = lines.filter((l) => l.prompt === item.prompt && l.dimension === 'helpfulness');
      check(got.length === (n * (n - 1)) / 2, `${got.length} helpfulness pairs for a prompt with ${n} responses`);
      check(got.every((g) => pos[g.chosen] < pos[g.rejected]), 'a pair against the ranking');
      check(lines.filter((l) => l.prompt === item.prompt && l.dimension === 'accuracy').length === (n * (n - 1)) / 2, 'accuracy pairs');
    }
    check(dl.suggestedFilename().startsWith('prefs-preference-'), `file name ${dl.suggestedFilename()}`);
    const status = (await api('rex', 'GET', `/api/label/projects/${ids.prefs}/status`)).json;
    check(status.exports.some((e) => e.sha256 === sha[1] && e.format === 'preference'), `export ${sha[1]} not in status ${JSON.stringify(status.exports)}`);
  });

  await step('image-caption: a click adds a numbered dot at the clicked point; name, caption, submit', async () => {
    await open(ann, '#/label/projects', 'ann projects');
    const pics = (await label(ann)).projects.find((p) => p.name === 'pics');
    await open(ann, projectUrl(pics.id, 'annotate'), 'ann image');
    const img = ann.locator('[data-testid=lw-image]');
    await ann.waitForFunction(() => document.querySelector('[data-testid=lw-image]').naturalWidth > 0);
    const box = await img.boundingBox();
    await img.click({ position: { x: box.width * 0.25, y: box.height * 0.5 } });
    await ann.locator('[data-testid=object-name]').fill('man');
    await ann.locator('[data-testid=object-description]').fill('a man shaving, seen in the mirror');
    await img.click({ position: { x: box.width * 0.75, y: box.height * 0.25 } });
    await ann.locator('[data-testid=object-name]').nth(1).fill('cabinet');
    await ann.click('[data-testid=rel-add]');
    await ann.fill('[data-testid=rel-text]', 'stands in front of');
    await ann.fill('[data-testid=lw-setting]', 'a tiled bathroom');
    await ann.fill('[data-testid=lw-caption]', 'A man shaves in front of a mirrored bathroom cabinet.');
    const dots = await ann.locator('[data-testid=lw-dot]').allTextContents();
    check(JSON.stringify(dots) === '["1","2"]', `dots ${dots}`);
    await shot(ann, 'label-12-image-workspace');
    const sent = await submitExpectOk(ann, 'image');
    const o = sent.payload.objects;
    check(o.length === 2 && Math.abs(o[0].x - 0.25) < 0.01 && Math.abs(o[0].y - 0.5) < 0.01 && Math.abs(o[1].x - 0.75) < 0.01 && o[0].name === 'man', `objects ${JSON.stringify(o)}`);
    check(JSON.stringify(sent.payload.relationships) === JSON.stringify([{ subject: '1', object: '2', text: 'stands in front of' }]), `relationships ${JSON.stringify(sent.payload.relationships)}`);
  });

  await step('video-caption: [ and ] at the playhead make a segment; clicking it seeks; submit', async () => {
    await open(ann, '#/label/projects', 'ann projects');
    const clips = (await label(ann)).projects.find((p) => p.name === 'clips');
    await open(ann, projectUrl(clips.id, 'annotate'), 'ann video');
    await ann.waitForFunction(() => document.querySelector('[data-testid=lw-video]').readyState >= 1, null, { timeout: 30000 });
    const seekTo = (t) => ann.evaluate((x) => new Promise((ok) => {
      const v = document.querySelector('[data-testid=lw-video]');
      v.addEventListener('seeked', () => ok(v.currentTime), { once: true });
      v.currentTime = x;
    }), t);
    const t0 = await seekTo(41.5);
    await ann.locator('body').press('[');
    const t1 = await seekTo(44);
    await ann.locator('body').press(']');
    await ann.waitForSelector('[data-testid=activity]');
    const act = await ann.locator('[data-testid=activity]').evaluate((e) => [Number(e.dataset.start), Number(e.dataset.end)]);
    check(Math.abs(act[0] - t0) < 0.01 && Math.abs(act[1] - t1) < 0.01, `segment ${act}, playhead ${t0} → ${t1}`);
    await ann.fill('[data-testid=activity-text]', 'Sintel runs through the snow');
    await seekTo(48);
    await ann.click('[data-testid=activity-seek]');
    await ann.waitForFunction((s) => Math.abs(document.querySelector('[data-testid=lw-video]').currentTime - s) < 0.2, act[0]);
    await ann.fill('[data-testid=lw-setting]', 'a snowy mountain');
    await ann.fill('[data-testid=lw-caption]', 'A girl runs through the snow.');
    await shot(ann, 'label-13-video-workspace');
    const sent = await submitExpectOk(ann, 'video');
    check(sent.payload.activities.length === 1 && sent.payload.activities[0].text === 'Sintel runs through the snow', `activities ${JSON.stringify(sent.payload.activities)}`);
    const st = JSON.parse(cli('label', 'status', 'clips', '--format', 'json'));
    check(JSON.stringify(st.assignments).includes('submitted'), `clips status ${JSON.stringify(st.assignments)}`);
  });

  await step('active time: seconds after an input count, idle time past 60 s does not', async () => {
    // a page of its own with a fake clock: 5 s of input, then 2 minutes without any
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    await serveDist(context, DIST);
    await signIn(context, base, 'ann', password('ann'));
    await context.clock.install();
    const p = await context.newPage();
    await p.goto(`${base}/#/label/projects`);
    await settled(p, 'ann projects (fake clock)');
    const pics = (await label(p)).projects.find((x) => x.name === 'pics');
    await p.goto(`${base}/#/label/projects?project=${pics.id}&page=annotate`);
    await p.waitForSelector('[data-testid=lw-image]');
    for (let i = 0; i < 5; i++) {
      await p.mouse.move(100 + i * 10, 300);
      await p.clock.runFor(1000);
    }
    await p.clock.runFor(120000);
    const saved = p.waitForResponse((r) => r.request().method() === 'PUT');
    await p.keyboard.press('Control+s');
    const n = (await saved).request().postDataJSON().active_seconds;
    // the last input was at ~4 s: it keeps the seconds up to ~64 s, the rest of the 125 s is idle
    check(n >= 60 && n <= 66, `active_seconds ${n} after 5 s of input and 120 s idle`);
    const shown = /^active (\d+):(\d\d)$/.exec(await p.textContent('[data-testid=lw-active]'));
    const total = shown && Number(shown[1]) * 60 + Number(shown[2]);
    check(total >= n && total <= n + 2, `shown ${shown && shown[0]}, sent ${n}`); // a tick may land after the save
    await context.close();
  });

  await step('? shows the keyboard shortcuts', async () => {
    await ann.locator('body').press('?');
    await ann.waitForSelector('[data-testid=label-help]');
    check((await ann.locator('[data-testid=label-help] kbd').count()) >= 6, 'shortcuts listed');
    await shot(ann, 'label-14-shortcuts');
    await ann.locator('body').press('?');
    check(!(await ann.locator('[data-testid=label-help]').count()), 'the shortcut list did not close');
  });

  await step('the end state through the API, and no page errors', async () => {
    const qa = (await api('mia', 'GET', `/api/label/projects/${ids.qa}/metrics`)).json;
    check(qa.accepted === 2 && qa.rework_rounds.max === 1, `qa metrics ${JSON.stringify(qa)}`);
    const ann1 = qa.people.find((p) => p.user === 'ann');
    check(ann1 && ann1.active_seconds > 0, `ann's active seconds ${JSON.stringify(ann1)}`);
    const sft = (await api('rex', 'GET', `/api/label/projects/${ids.qa}/export?format=sft&style=openai`)).text.split('\n').filter(Boolean);
    check(sft.length === 4, `${sft.length} SFT lines, expected 4 accepted QA pairs`);
    check(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  });
});
