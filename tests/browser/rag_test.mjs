// Browser test of the Ask tab (the rag chat page, `#/rag/chat`): a small corpus written here
// (Markdown, HTML, text with markup in it, and tests/data's tagged.pdf for a page number) is
// ingested with `sagebox rag ingest`, then `sagebox serve` and headless Debian Chromium at
// 1366×768. Two questions are asked through the page; for each, the answer text, its citation
// markers and every source (number, title, source, page, score, passage) on the page are
// compared with the /api/rag/ask body the page received and with `sagebox rag ask … --format
// json` for the same question (BM25 is deterministic). Also: a citation opens the passage
// panel and posts `source:<chunk_id>` feedback, thumbs up shows up in /api/rag/questions,
// the question box is disabled while waiting, a server error is shown in the page (no
// dialog), server text never becomes markup, the conversation survives a reload, the Markdown
// and JSON transcripts download with the right content, and a server with no knowledge base
// says how to make one.
//
// Usage: node tests/browser/rag_test.mjs path/to/sagebox
//   env SAGEBOX_ARTIFACTS=DIR    screenshots go there (default tests/browser/artifacts/)
//   env SAGEBOX_TEST_MOCK=1      use web/dev/mock-server.mjs --rag-data (answers by the CLI;
//                                builds web/ itself)
//   env SAGEBOX_TEST_PERTURB=1   change one expected source score to prove the comparison can fail
//   env SAGEBOX_TEST_DIST=DIR    the browser gets index.html, app.js and app.css from DIR (a
//                                `node web/build.mjs DIR`) instead of the server: a front end
//                                tested against a server binary built without it
// Needs `npm ci` in web/ (playwright-core) and /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  artifactsDir, check, getJson, launchChromium, launchServer, MOCK, MOCK_SERVER, mockDist,
  noteRejectionsAfterFailedSteps, repo, run, sageboxFromArgs, screenshots, serverCount, settled, step,
} from './harness.mjs';

const sagebox = sageboxFromArgs(import.meta.url);
const DIST = process.env.SAGEBOX_TEST_DIST ? resolve(process.env.SAGEBOX_TEST_DIST) : null;
const PERTURB = process.env.SAGEBOX_TEST_PERTURB === '1';
const artifacts = artifactsDir();
const shot = screenshots({ fullPage: true });

// ---- the corpus: known facts in each format ---------------------------------------------------
const tmp = mkdtempSync(join(tmpdir(), 'sagebox-rag-browser-'));
const corpus = join(tmp, 'corpus');
mkdirSync(corpus, { recursive: true });
writeFileSync(join(corpus, 'backups.md'), `# Backups

Nightly backups of the orders database are kept for 35 days in the Frankfurt bucket.
Restores are rehearsed every quarter by the storage team.

## Weekly backups

Weekly backups of the orders database are kept for one year on tape.
`);
writeFileSync(join(corpus, 'lighthouse.html'), `<!doctype html>
<html><head><title>Lighthouses</title></head>
<body>
<div class="sphinxsidebar">Navigation: Home, Index, Search</div>
<div class="body">
<h1>Lighthouses</h1>
<p>The Ardnamurchan lighthouse is 36 metres tall and was built in 1849.</p>
<p>Its keepers left in 1988, when the light became automatic.</p>
</div>
</body></html>
`);
// markup in plain text: it must reach the page as text, never as elements
writeFileSync(join(corpus, 'pager.txt'), `The on-call pager code is <b>7731</b> & <img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script>.
Call the pager code only for outages of the orders database, not for backups.
`);
copyFileSync(join(repo, 'tests/data/retrieval/pdf/tagged.pdf'), join(corpus, 'tagged.pdf'));

const QUESTIONS = [
  { q: 'How long are nightly backups of the orders database kept?', fact: '35 days', top: 'backups.md' },
  { q: 'What is the on-call pager code for the orders database heading table?', fact: '7731', top: 'pager.txt' },
];
const K = 5;

// ---- servers ------------------------------------------------------------------------------------
// A failed step's leftover waiters must not crash the test and leave the servers running.
noteRejectionsAfterFailedSteps();
async function startServer(data) {
  const portFile = join(tmp, `port-${serverCount()}`);
  if (MOCK) {
    const dist = mockDist(tmp);
    const store = join(tmp, `store-${serverCount()}`);
    mkdirSync(store, { recursive: true });
    return launchServer('node', [MOCK_SERVER, '--sagebox', sagebox, '--store', store, '--dist', dist,
      '--rag-data', data, '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
  }
  return launchServer(sagebox, ['--data', data, 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile], portFile);
}

const cli = (data, ...argv) => execFileSync(sagebox, ['--data', data, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });

// ---- page helpers ---------------------------------------------------------------------------------
// Every turn on the page, read in one go.
function readTurns(page) {
  return page.$$eval('[data-testid=turn]', (turns) => turns.map((t) => {
    const meta = t.querySelector('[data-testid=answer-meta]');
    return {
      id: t.dataset.id,
      index: t.dataset.index,
      question: t.querySelector('[data-testid=turn-question]').textContent,
      answer: t.querySelector('[data-testid=answer-text]').textContent,
      cites: [...t.querySelectorAll('[data-testid=answer-text] [data-testid=cite]')].map((c) => ({ n: c.dataset.n, text: c.textContent })),
      provider: meta.dataset.provider,
      latency: meta.dataset.latencyMs,
      cost: meta.dataset.cost,
      metaText: meta.textContent,
      vote: [...t.querySelectorAll('button[aria-pressed=true]')].map((b) => b.dataset.testid),
      sources: [...t.querySelectorAll('[data-testid=source]')].map((li) => ({
        n: li.dataset.n,
        chunk: li.dataset.chunkId,
        label: li.querySelector('[data-testid=source-n]').textContent,
        title: li.querySelector('[data-testid=source-title]')?.textContent ?? '',
        path: li.querySelector('[data-testid=source-path]').textContent,
        page: li.querySelector('[data-testid=source-page]').dataset.page,
        pageText: li.querySelector('[data-testid=source-page]').textContent,
        score: li.querySelector('[data-testid=source-score]').textContent,
        scoreExact: li.querySelector('[data-testid=source-score]').dataset.score,
      })),
    };
  }));
}

// Compares one turn on the page with an ask answer (the API's or the CLI's). `full`: also
// the fields only the API answer the page rendered has in common with it (id, latency).
function compareTurn(shown, want, what, full) {
  const w = structuredClone(want);
  if (PERTURB && w.sources.length) w.sources[0].score += 0.0001;
  check(shown.question === w.question, `${what}: question "${shown.question}", expected "${w.question}"`);
  check(shown.answer === w.answer, `${what}: answer text\n  page: ${JSON.stringify(shown.answer)}\n  want: ${JSON.stringify(w.answer)}`);
  const markers = [...w.answer.matchAll(/\[(\d+)\]/g)].map((m) => m[1]).filter((n) => n >= 1 && n <= w.sources.length);
  check(JSON.stringify(shown.cites.map((c) => c.n)) === JSON.stringify(markers), `${what}: citation links ${JSON.stringify(shown.cites)}, answer markers ${JSON.stringify(markers)}`);
  check(shown.cites.every((c) => c.text === `[${c.n}]`), `${what}: citation link text ${JSON.stringify(shown.cites)}`);
  check(shown.index === w.index, `${what}: index ${shown.index}, expected ${w.index}`);
  check(shown.provider === w.provider, `${what}: provider ${shown.provider}, expected ${w.provider}`);
  check(shown.cost === (w.cost_usd ?? ''), `${what}: cost ${shown.cost}, expected ${w.cost_usd}`);
  check(shown.metaText.includes(w.mode), `${what}: mode ${w.mode} not in "${shown.metaText}"`);
  check(shown.sources.length === w.sources.length, `${what}: ${shown.sources.length} sources on the page, expected ${w.sources.length}`);
  for (const [i, s] of w.sources.entries()) {
    const p = shown.sources[i];
    const where = `${what} source ${i + 1}`;
    check(p.n === String(s.n) && p.label === `[${s.n}]` && s.n === i + 1, `${where}: number ${p.n}/${p.label}, expected ${s.n}`);
    check(p.chunk === s.chunk_id, `${where}: chunk ${p.chunk}, expected ${s.chunk_id}`);
    check(p.path === s.source, `${where}: source "${p.path}", expected "${s.source}"`);
    check(p.title === (s.title || ''), `${where}: title "${p.title}", expected "${s.title}"`);
    check(p.page === String(s.page) && p.pageText === (s.page > 0 ? `p. ${s.page}` : ''), `${where}: page ${p.page} "${p.pageText}", expected ${s.page}`);
    check(p.score === Number(s.score).toFixed(4) && p.scoreExact === String(s.score), `${where}: score ${p.score} (${p.scoreExact}), expected ${Number(s.score).toFixed(4)} (${s.score})`);
  }
  if (full) {
    check(shown.id === String(w.id), `${what}: question id ${shown.id}, expected ${w.id}`);
    check(shown.latency === String(w.latency_ms), `${what}: latency ${shown.latency}, expected ${w.latency_ms}`);
  }
}

// JSON with object keys sorted, to compare two answers whatever order their writers used.
const canonical = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
// The API's answer minus what differs between two runs of the same question.
const stable = (a) => canonical({ ...a, id: 0, latency_ms: 0 });

// ---- the test ---------------------------------------------------------------------------------------
await run(tmp, async () => {
  const data = join(tmp, 'data');
  mkdirSync(data, { recursive: true });
  const ingest = cli(data, 'rag', 'ingest', 'docs', corpus);
  console.log(ingest.trim());
  // the CLI's answers first, while only the CLI has the database
  const cliAnswers = QUESTIONS.map(({ q }) => JSON.parse(cli(data, 'rag', 'ask', 'docs', q, '--k', String(K), '--format', 'json')));
  for (const [i, a] of cliAnswers.entries()) {
    // the corpus is made so that these hold; if not, fix the corpus, not the page
    check(a.answer.includes(QUESTIONS[i].fact) && a.sources[0].source.endsWith(QUESTIONS[i].top), `corpus: question ${i + 1} answers ${JSON.stringify(a.answer)} from ${a.sources[0].source}`);
  }
  check(cliAnswers.some((a) => a.sources.some((s) => s.page > 0)), 'corpus: no source with a page number among the answers (tagged.pdf)');
  const base = await startServer(data);
  console.log(`server at ${base} (${MOCK ? 'mock' : 'sagebox serve'}), corpus in ${corpus}`);

  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  if (DIST) {
    const files = { '/': ['index.html', 'text/html; charset=utf-8'], '/assets/app.js': ['app.js', 'text/javascript'], '/assets/app.css': ['app.css', 'text/css'] };
    await context.route((url) => url.hostname === '127.0.0.1' && Object.hasOwn(files, url.pathname), (route) => {
      const [name, contentType] = files[new URL(route.request().url()).pathname];
      return route.fulfill({ status: 200, contentType, body: readFileSync(join(DIST, name)) });
    });
  }
  const page = await context.newPage();
  const pageErrors = [];
  let expectFailedLoad = false; // the error step's answers: Chromium logs each failed load
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && !(expectFailedLoad && /Failed to load resource/.test(m.text())) && pageErrors.push(`console: ${m.text()}`));
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  const feedbackPosts = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/rag/feedback') feedbackPosts.push(r.postDataJSON());
  });
  const apiAnswers = [];

  await step('ask tab: the index picker lists /api/rag/indexes, the tab is in the top bar', async () => {
    await page.goto(`${base}/#/rag/chat`);
    await settled(page, 'ask tab');
    const tabs = await page.$$eval('[data-testid=module-tabs] a', (as) => as.map((a) => [a.dataset.module, a.textContent, a.classList.contains('active')]));
    check(JSON.stringify(tabs) === JSON.stringify([['cost', 'Cost', false], ['endpoint', 'Endpoint', false], ['rag', 'Ask', true], ['label', 'Label', false], ['pipeline', 'Pipeline', false]]), `module tabs: ${JSON.stringify(tabs)}`);
    const indexes = (await getJson(`${base}/api/rag/indexes`)).indexes;
    const options = await page.$$eval('[data-testid=rag-index] option', (os) => os.map((o) => [o.value, o.selected]));
    check(JSON.stringify(options.map((o) => o[0])) === JSON.stringify(indexes.map((i) => i.name)), `picker ${JSON.stringify(options)}, API ${JSON.stringify(indexes.map((i) => i.name))}`);
    const docs = indexes.find((i) => i.name === 'docs');
    check(docs && docs.documents === 4, `/api/rag/indexes: ${JSON.stringify(indexes)}`);
    const about = await page.textContent('[data-testid=rag-index-about]');
    check(about.startsWith(`${docs.documents} documents, ${docs.chunks} chunks`), `index summary "${about}" for ${JSON.stringify(docs)}`);
    check(await page.locator('[data-testid=rag-download-md]').isDisabled(), 'transcript download enabled with no turns');
    await shot(page, 'rag-01-empty');
  });

  await step('two questions: answers and every source equal /api/rag/ask and `sagebox rag ask --format json`', async () => {
    for (const [i, { q }] of QUESTIONS.entries()) {
      // hold the answer back a little, to see the box disabled while waiting
      let release;
      const held = new Promise((r) => (release = r));
      await page.route('**/api/rag/ask', async (route) => {
        await held;
        await route.continue();
      });
      await page.fill('[data-testid=rag-question]', q);
      const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rag/ask');
      await page.press('[data-testid=rag-question]', 'Enter');
      await page.waitForSelector('[data-testid=turn-pending]');
      check(await page.locator('[data-testid=rag-question]').isDisabled(), 'question box enabled while waiting');
      check(await page.locator('[data-testid=rag-send]').isDisabled(), 'Ask button enabled while waiting');
      release();
      const res = await response;
      await page.unroute('**/api/rag/ask');
      check(res.ok(), `POST /api/rag/ask: HTTP ${res.status()} ${await res.text()}`);
      const sent = res.request().postDataJSON();
      check(sent.index === 'docs' && sent.question === q && sent.k === K && sent.mode === 'auto', `request body ${JSON.stringify(sent)}`);
      const api = await res.json();
      apiAnswers.push(api);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=turn]').length === n && !document.querySelector('[data-testid=turn-pending]'), i + 1);
      check(await page.locator('[data-testid=rag-question]').isEnabled(), 'question box still disabled after the answer');
      check((await page.inputValue('[data-testid=rag-question]')) === '', 'question box not emptied after the answer');
      const shown = (await readTurns(page))[i];
      compareTurn(shown, api, `turn ${i + 1} vs /api/rag/ask`, true);
      compareTurn(shown, cliAnswers[i], `turn ${i + 1} vs the CLI`, false);
      check(stable(api) === stable(cliAnswers[i]), `turn ${i + 1}: the API and the CLI disagree:\n  API ${stable(api)}\n  CLI ${stable(cliAnswers[i])}`);
      check(shown.answer.includes(QUESTIONS[i].fact), `turn ${i + 1}: "${QUESTIONS[i].fact}" not in the answer ${shown.answer}`);
      console.log(`     turn ${i + 1}: ${shown.sources.length} sources, ${shown.cites.length} citations, pages ${shown.sources.map((s) => s.page).join(',')}`);
    }
    const hook = await page.evaluate(() => window.__sagebox);
    check(hook.view === 'rag' && hook.rag.turns === 2 && hook.rag.last.id === apiAnswers[1].id, `hook ${JSON.stringify(hook && hook.rag && { ...hook.rag, last: undefined })}`);
    await shot(page, 'rag-02-two-answers');
  });

  await step('server text stays text: markup in a passage is shown, not run', async () => {
    const turns = await readTurns(page);
    const pager = apiAnswers[1].sources.find((s) => s.source.endsWith('pager.txt'));
    check(pager && pager.passage.includes('<script>'), `pager.txt passage: ${JSON.stringify(pager)}`);
    check(turns.every((t) => t.sources.every((x) => !x.path.includes('<'))), 'a source path with markup');
    const counts = await page.evaluate(() => ({
      pwned: window.__pwned === undefined ? 0 : 1,
      elements: document.querySelectorAll('main script, main img, main b').length,
    }));
    check(counts.pwned === 0 && counts.elements === 0, `markup from the server became elements: ${JSON.stringify(counts)}`);
  });

  await step('a citation opens the passage and posts source feedback', async () => {
    const a = apiAnswers[0];
    const n = Number([...a.answer.matchAll(/\[(\d+)\]/g)][0][1]);
    const s = a.sources[n - 1];
    const before = feedbackPosts.length;
    const posted = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rag/feedback');
    await page.click(`[data-testid=turn] >> nth=0 >> [data-testid=answer-text] [data-testid=cite][data-n="${n}"]`);
    const res = await posted;
    check(res.ok(), `POST /api/rag/feedback: HTTP ${res.status()} ${await res.text()}`);
    check(feedbackPosts.length === before + 1 && JSON.stringify(feedbackPosts[before]) === JSON.stringify({ id: a.id, feedback: `source:${s.chunk_id}` }), `feedback posted: ${JSON.stringify(feedbackPosts.slice(before))}`);
    const panel = await page.evaluate(() => {
      const p = document.querySelector('[data-testid=rag-passage]');
      const t = (id) => p.querySelector(`[data-testid=${id}]`)?.textContent ?? null;
      return { hidden: p.hidden, n: t('passage-n'), title: t('passage-title'), source: t('passage-source'), page: t('passage-page'), chunk: t('passage-chunk'), text: t('passage-text') };
    });
    check(!panel.hidden, 'the passage panel is hidden');
    check(panel.text === s.passage, `passage panel text\n  page: ${JSON.stringify(panel.text)}\n  API:  ${JSON.stringify(s.passage)}`);
    check(panel.n === `[${n}]` && panel.source === s.source && panel.chunk === s.chunk_id && panel.title === (s.title || s.source), `passage panel head ${JSON.stringify(panel)}`);
    check(s.page > 0 ? panel.page === ` · page ${s.page}` : panel.page === null, `passage page ${panel.page}, API ${s.page}`);
    // the logged question now carries the clicked source
    const logged = (await getJson(`${base}/api/rag/questions?index=docs&limit=10`)).questions.find((x) => x.id === a.id);
    check(logged && logged.feedback === `source:${s.chunk_id}`, `/api/rag/questions for ${a.id}: ${JSON.stringify(logged)}`);
    // a source with a page: its list entry opens its passage too
    const withPage = apiAnswers.flatMap((x, ti) => x.sources.map((src) => ({ src, ti }))).find((x) => x.src.page > 0);
    check(withPage, 'no source with a page among the answers');
    await page.click(`[data-testid=turn] >> nth=${withPage.ti} >> [data-testid=source][data-n="${withPage.src.n}"] [data-testid=source-open]`);
    await page.waitForFunction((id) => document.querySelector('[data-testid=rag-passage]').dataset.chunkId === id, withPage.src.chunk_id);
    const p2 = await page.evaluate(() => [document.querySelector('[data-testid=passage-page]')?.textContent, document.querySelector('[data-testid=passage-text]').textContent]);
    check(p2[0] === ` · page ${withPage.src.page}` && p2[1] === withPage.src.passage, `passage of ${withPage.src.source}: ${JSON.stringify(p2)}`);
    await shot(page, 'rag-03-passage');
  });

  await step('thumbs up is recorded: the page says so and /api/rag/questions has feedback "up"', async () => {
    const a = apiAnswers[1];
    const posted = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rag/feedback' && r.request().postDataJSON().feedback === 'up');
    await page.click('[data-testid=turn] >> nth=1 >> [data-testid=vote-up]');
    const res = await posted;
    check(res.ok(), `feedback up: HTTP ${res.status()}`);
    check(JSON.stringify(res.request().postDataJSON()) === JSON.stringify({ id: a.id, feedback: 'up' }), `posted ${res.request().postData()}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=vote-status]')[1].textContent.startsWith('Feedback recorded'));
    const turns = await readTurns(page);
    check(JSON.stringify(turns[1].vote) === '["vote-up"]' && turns[0].vote.length === 0, `votes shown: ${JSON.stringify(turns.map((t) => t.vote))}`);
    const qs = (await getJson(`${base}/api/rag/questions?index=docs&limit=10`)).questions;
    const logged = qs.find((x) => x.id === a.id);
    check(logged && logged.feedback === 'up', `/api/rag/questions for ${a.id}: ${JSON.stringify(logged)}`);
    check(logged.question === a.question && logged.answer === a.answer && logged.results.length === a.sources.length &&
      logged.results.every((r, i) => r.chunk_id === a.sources[i].chunk_id), `logged question ${JSON.stringify(logged)} vs asked ${a.id}`);
    // the recent list shows the page's questions with their feedback, newest first
    await page.waitForFunction((id) => document.querySelector(`[data-testid=recent][data-id="${id}"]`)?.dataset.feedback === 'up', a.id);
    const recent = await page.$$eval('[data-testid=recent]', (ls) => ls.map((l) => [Number(l.dataset.id), l.dataset.feedback]));
    const want = qs.map((x) => [x.id, x.feedback ?? '']);
    check(JSON.stringify(recent) === JSON.stringify(want), `recent questions ${JSON.stringify(recent)}, API ${JSON.stringify(want)}`);
  });

  await step('errors are shown in the page, not in a dialog, and the question is kept', async () => {
    expectFailedLoad = true;
    // the server's own: dense retrieval on an index without an embedder
    await page.selectOption('[data-testid=rag-mode]', 'dense');
    const refused = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rag/ask');
    await page.fill('[data-testid=rag-question]', 'How long are backups kept?');
    await page.press('[data-testid=rag-question]', 'Enter');
    const bad = await refused;
    const body = await bad.json();
    check(bad.status() === 400 && body.error && body.error.message, `dense on a BM25 index: HTTP ${bad.status()} ${JSON.stringify(body)}`);
    await page.waitForSelector('[data-testid=rag-ask-error]:not([hidden])');
    const said = await page.textContent('[data-testid=rag-ask-error]');
    check(said === `${body.error.code}: ${body.error.message}`, `error shown "${said}", server said ${JSON.stringify(body.error)}`);
    check(/embedder/.test(said), `the error does not say why: ${said}`);
    await page.selectOption('[data-testid=rag-mode]', 'auto');
    // one the server cannot be made to give here (503: no generator), from a stand-in
    await page.route('**/api/rag/ask', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'Unavailable', message: 'no generator <configured>' } }) }));
    await page.fill('[data-testid=rag-question]', 'Will this fail?');
    await page.click('[data-testid=rag-send]');
    await page.waitForSelector('[data-testid=rag-ask-error]:not([hidden])');
    await page.unroute('**/api/rag/ask');
    expectFailedLoad = false;
    const text = await page.textContent('[data-testid=rag-ask-error]');
    check(text === 'Unavailable: no generator <configured>', `error text "${text}"`);
    check((await page.inputValue('[data-testid=rag-question]')) === 'Will this fail?', 'the question was not kept after an error');
    check((await readTurns(page)).length === 2, 'a failed question added a turn');
    check(dialogs.length === 0, `dialogs: ${dialogs.join(' | ')}`);
    await page.fill('[data-testid=rag-question]', '');
  });

  await step('the conversation survives a reload', async () => {
    const before = await readTurns(page);
    await page.reload();
    await settled(page, 'after reload');
    await page.waitForSelector('[data-testid=turn]');
    const after = await readTurns(page);
    check(JSON.stringify(after) === JSON.stringify(before), `turns after reload differ:\n  before ${JSON.stringify(before.map((t) => [t.id, t.vote]))}\n  after  ${JSON.stringify(after.map((t) => [t.id, t.vote]))}`);
    for (const [i, t] of after.entries()) compareTurn(t, apiAnswers[i], `turn ${i + 1} after reload`, true);
    await shot(page, 'rag-04-after-reload');
  });

  await step('transcript: the Markdown and JSON downloads hold every question, answer and source', async () => {
    const [md] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=rag-download-md]')]);
    check(/^sagebox-rag-docs-\d{8}-\d{6}\.md$/.test(md.suggestedFilename()), `file name ${md.suggestedFilename()}`);
    const text = readFileSync(await md.path(), 'utf8');
    writeFileSync(join(artifacts, 'rag-transcript.md'), text);
    check(text.startsWith('# sagebox rag transcript\n'), `transcript head: ${text.slice(0, 80)}`);
    // server text must not become markup in a Markdown viewer either: prose escaped, passages fenced
    const esc = (x) => x.replace(/[\\<&]/g, '\\$&');
    let at = 0;
    for (const [i, a] of apiAnswers.entries()) {
      // in order: the question, the answer, then each source with its passage
      const want = [`## ${i + 1}. ${esc(a.question)}\n`];
      if (i === 1) want.push(', feedback: up');
      want.push(`\n${esc(a.answer)}\n`);
      for (const s of a.sources) {
        want.push(`[${s.n}] ${s.title ? `${esc(s.title)}: ` : ''}\`${s.source}\`${s.page > 0 ? `, page ${s.page}` : ''}, score ${Number(s.score).toFixed(4)}\n`);
        want.push(`\n\`\`\`text\n${s.passage}\n\`\`\`\n`);
      }
      for (const w of want) {
        const j = text.indexOf(w, at);
        check(j >= 0, `transcript: ${JSON.stringify(w)} not found (in order) after offset ${at}`);
        if (!w.startsWith(', feedback')) at = j + w.length;
      }
    }
    check(apiAnswers[1].answer.includes('<b>7731</b>') && text.includes('\\<b>7731\\</b>'), 'the markup in the second answer is not escaped in the transcript');
    const [js] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=rag-download-json]')]);
    check(js.suggestedFilename().endsWith('.json'), `file name ${js.suggestedFilename()}`);
    const j = JSON.parse(readFileSync(await js.path(), 'utf8'));
    check(j.turns.length === 2, `${j.turns.length} turns in the JSON transcript`);
    for (const [i, a] of apiAnswers.entries()) {
      const { feedback, opened, ...rest } = j.turns[i];
      check(canonical(rest) === canonical(a), `JSON transcript turn ${i + 1} differs from the API answer`);
      check(feedback === (i === 1 ? 'up' : null), `JSON transcript turn ${i + 1} feedback ${feedback}`);
      check(Array.isArray(opened) && (i === 0 ? opened.length >= 1 : true), `JSON transcript turn ${i + 1} opened ${JSON.stringify(opened)}`);
    }
  });

  await step('the Retrieval and Sources controls go into the request; Clear empties the conversation', async () => {
    await page.selectOption('[data-testid=rag-mode]', 'bm25');
    await page.fill('[data-testid=rag-k]', '2');
    const q = QUESTIONS[0].q;
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rag/ask');
    await page.fill('[data-testid=rag-question]', q);
    await page.press('[data-testid=rag-question]', 'Enter');
    const res = await response;
    const sent = res.request().postDataJSON();
    check(sent.k === 2 && sent.mode === 'bm25', `request body ${JSON.stringify(sent)}`);
    const api = await res.json();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=turn]').length === 3);
    const shown = (await readTurns(page))[2];
    compareTurn(shown, api, 'turn 3 vs /api/rag/ask', true);
    check(api.sources.length === 2, `k=2 gave ${api.sources.length} sources`);
    compareTurn(shown, JSON.parse(cli(data, 'rag', 'ask', 'docs', q, '--k', '2', '--mode', 'bm25', '--format', 'json')), 'turn 3 vs the CLI', false);
    await page.click('[data-testid=rag-clear]');
    check((await readTurns(page)).length === 0, 'turns left after Clear');
    check((await page.evaluate(() => sessionStorage.getItem('sagebox.rag.turns'))) === null, 'turns left in sessionStorage after Clear');
    check(await page.locator('[data-testid=rag-download-md]').isDisabled(), 'transcript download enabled after Clear');
  });

  await step('no page errors', async () => {
    check(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
  });

  await step('a server with no knowledge base says how to make one', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    const other = await startServer(empty);
    const p = await context.newPage();
    const errs = [];
    p.on('pageerror', (e) => errs.push(String(e)));
    await p.goto(`${other}/#/rag/chat`);
    await settled(p, 'ask tab without an index');
    const text = await p.textContent('[data-testid=rag-none]');
    check(/no knowledge base yet/i.test(text) && text.includes('sagebox rag ingest NAME PATH...'), `message: ${text}`);
    check(!(await p.locator('[data-testid=rag-question]').count()), 'a question box with nothing to ask');
    await shot(p, 'rag-05-no-index');
    check(errs.length === 0, `page errors: ${errs.join(' | ')}`);
    await p.close();
  });
});
