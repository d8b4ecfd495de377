// sagebox web UI: one app with a top-bar tab per module (src/modules.js), a hash router
// (`#/<module>/<view>?…`), and sign-in. Talks only to the JSON API (docs/api.md).
import { clearToken, getJson, initToken, onUnauthenticated, postJson, setCsrfToken, setVia, token } from './api.js';
import { showLogin } from './login.js';
import { DEFAULT_MODULE, MODULES } from './modules.js';
import { begin, clearError, destroyCharts, fail, h, showError } from './ui.js';

const $ = (id) => document.getElementById(id);
const main = () => $('main');

let user = null; // whoami's answer while the app is shown; null on the sign-in page
let listening = false;
let current = null; // { module, view }
const contexts = new Map(); // module id → promise of its load()

// ---- routes -------------------------------------------------------------------------
// `#/cost/explorer?…` → { module, view, params }; `#/explorer?…` (before modules) is
// rewritten to `#/cost/explorer?…` in place, so saved links keep working.
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const i = raw.indexOf('?');
  const path = (i < 0 ? raw : raw.slice(0, i)).split('/').filter(Boolean);
  const query = i < 0 ? '' : raw.slice(i + 1);
  const params = new URLSearchParams(query);
  if (!path.length) return { module: DEFAULT_MODULE, view: DEFAULT_MODULE.views[0], params };
  let module = MODULES.find((m) => m.id === path[0]);
  if (!module) {
    const legacy = DEFAULT_MODULE.views.find((v) => v.id === path[0]);
    if (!legacy) return { missing: path.join('/'), params };
    history.replaceState(null, '', `${location.pathname}${location.search}#/${DEFAULT_MODULE.id}/${path.join('/')}${query ? '?' + query : ''}`);
    module = DEFAULT_MODULE;
    path.unshift(module.id);
  }
  const view = path[1] ? module.views.find((v) => v.id === path[1]) : module.views[0];
  if (!view) return { module, missing: path.join('/'), params };
  return { module, view, params };
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderNav(module) {
  const tabs = $('tabs');
  for (const a of tabs.querySelectorAll('a')) {
    const on = module && a.dataset.module === module.id;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const nav = $('nav');
  if (!module) {
    nav.replaceChildren();
    return;
  }
  if (nav.dataset.module !== module.id) {
    nav.dataset.module = module.id;
    nav.setAttribute('aria-label', `${module.label} views`);
    nav.replaceChildren(...module.views.map((v) => h('a', { href: `#/${module.id}/${v.id}`, 'data-view': v.id, 'data-testid': `nav-${v.id}` }, v.label)));
  }
}

function loadModule(module) {
  if (!contexts.has(module.id)) {
    const p = module.load ? module.load() : Promise.resolve(null);
    contexts.set(module.id, p);
    p.catch(() => contexts.delete(module.id)); // retried on the next visit
  }
  return contexts.get(module.id);
}

function leaveView() {
  if (current && current.view && current.view.leave) current.view.leave();
  current = null;
}

async function route() {
  if (!user) return;
  const r = parseHash();
  renderNav(r.module || null);
  for (const a of $('nav').querySelectorAll('a')) {
    const on = Boolean(r.view) && a.dataset.view === r.view.id;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!r.view) {
    leaveView();
    destroyCharts();
    const home = `#/${DEFAULT_MODULE.id}/${DEFAULT_MODULE.views[0].id}`;
    begin();
    main().replaceChildren(h('div', { class: 'empty', 'data-testid': 'not-found' }, `No page named “${r.missing}”.`, ' ', h('a', { href: home }, `Open the ${DEFAULT_MODULE.views[0].label}`)));
    $('spinner').hidden = true;
    document.body.dataset.state = 'ready';
    return;
  }
  let ctx;
  if (!contexts.has(r.module.id)) {
    const isCurrent = begin();
    try {
      ctx = await loadModule(r.module);
    } catch (err) {
      fail(isCurrent, err);
      return;
    }
    if (!isCurrent() || !user) return;
  } else {
    try {
      ctx = await loadModule(r.module);
    } catch (err) {
      fail(begin(), err);
      return;
    }
  }
  $('meta').textContent = r.module.status && ctx ? r.module.status(ctx) : '';
  if (current && (current.view !== r.view || current.module !== r.module)) leaveView();
  if (!r.view.leave) destroyCharts(); // views without state redraw from scratch
  current = { module: r.module, view: r.view };
  r.view.show({ main: main(), params: r.params, navigate, ctx });
}

// ---- signed in / out ----------------------------------------------------------------
function enterApp(who) {
  user = who;
  setVia(who.via);
  if (who.csrf_token) setCsrfToken(who.csrf_token);
  document.body.dataset.role = who.role || '';
  document.body.classList.remove('signed-out');
  $('user-name').textContent = who.name || '';
  $('user-role').textContent = who.role || '';
  $('user').title = who.anonymous ? 'Open server on a loopback address: no sign-in needed' : `Signed in${who.via === 'token' ? ' with an API token' : ''} as ${who.name} (${who.role})`;
  $('user').hidden = false;
  $('sign-out').hidden = Boolean(who.anonymous);
  $('tabs').hidden = false;
  $('subbar').hidden = false;
  clearError();
  if (!listening) {
    window.addEventListener('hashchange', route);
    listening = true;
  }
  route();
}

function signedOut(notice, error) {
  user = null;
  setVia(null);
  leaveView();
  destroyCharts();
  contexts.clear();
  window.__sagebox = null;
  delete document.body.dataset.role;
  document.body.classList.add('signed-out');
  $('user').hidden = true;
  $('tabs').hidden = true;
  $('subbar').hidden = true;
  $('meta').textContent = '';
  showLogin(main(), { notice, error, onSignedIn: (who) => enterApp({ ...who, via: 'session', anonymous: false }) });
}

async function signOut() {
  const via = user && user.via;
  if (via === 'session') {
    try {
      await postJson('/api/logout', {}, { quiet401: true });
    } catch (err) {
      if (err.status !== 401) {
        showError(err);
        return;
      }
    }
  }
  setCsrfToken(null);
  clearToken();
  signedOut('You have signed out.');
}

async function whoami() {
  try {
    return await getJson('/api/whoami', null, { quiet401: true });
  } catch (err) {
    // a server from before sign-in: open, as it was
    if (err.status === 404) return { name: 'local', role: 'admin', via: 'open', anonymous: true };
    throw err;
  }
}

async function start() {
  initToken();
  for (const m of MODULES) $('tabs').append(h('a', { href: `#/${m.id}`, 'data-module': m.id, 'data-testid': `tab-${m.id}` }, m.label));
  $('sign-out').addEventListener('click', signOut);
  // a 401 without a bearer token: the session ended (or the server restarted)
  onUnauthenticated(() => {
    if (user && user.via !== 'token') signedOut(null, 'Your session has ended. Sign in again.');
  });
  const isCurrent = begin();
  let who;
  try {
    who = await whoami();
  } catch (err) {
    if (err.status === 401) {
      const bad = token();
      signedOut();
      if (bad) {
        // keep the token flow's message: a bad ?token= is an error, not just a sign-in page
        showError(err);
        document.body.dataset.state = 'error';
      }
      return;
    }
    fail(isCurrent, err);
    return;
  }
  enterApp(who);
}

start();
