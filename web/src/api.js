// The dashboard's only way to talk to the server: the JSON API of docs/api.md.
// Two ways to be signed in: a bearer token (`?token=T` in the page URL, kept in
// sessionStorage) or a session (the HttpOnly cookie from POST /api/login, plus its CSRF
// token in sessionStorage, sent as X-CSRF-Token on every non-GET request).
const TOKEN_KEY = 'sagebox.token';
const CSRF_KEY = 'sagebox.csrf';

// Moves ?token=T from the page URL into sessionStorage (so it is not left in the address bar).
export function initToken() {
  const params = new URLSearchParams(location.search);
  const t = params.get('token');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    params.delete('token');
    const qs = params.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : '') + location.hash);
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function csrfToken() {
  return sessionStorage.getItem(CSRF_KEY);
}

export function setCsrfToken(t) {
  if (t) sessionStorage.setItem(CSRF_KEY, t);
  else sessionStorage.removeItem(CSRF_KEY);
}

// Called (once per 401) when a request without a bearer token is refused: the session
// ended or never began. The app shows the sign-in form.
let unauthenticated = null;
let via = null; // whoami's `via`: open, session or token
export function setVia(v) {
  via = v;
}

export function onUnauthenticated(fn) {
  unauthenticated = fn;
}

export class ApiError extends Error {
  // `body`: the error answer's JSON, when it had more to say than {"error"} (e.g. a 422's
  // `failures`); null otherwise.
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function toQuery(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== '' && x !== null && x !== undefined) p.append(k, x);
    } else {
      p.append(k, v);
    }
  }
  return p.toString();
}

export function apiUrl(path, params) {
  const qs = toQuery(params);
  return path + (qs ? '?' + qs : '');
}

function authHeaders(method) {
  const t = token();
  if (t) return { Authorization: `Bearer ${t}` };
  const csrf = csrfToken();
  return csrf && method !== 'GET' && method !== 'HEAD' ? { 'X-CSRF-Token': csrf } : {};
}

// `raw`: a body sent as it is (a string) with `contentType`, instead of JSON.
async function send(path, { method = 'GET', params, body, raw, contentType, accept = 'application/json', quiet401 = false } = {}) {
  const headers = { Accept: accept, ...authHeaders(method) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw !== undefined) headers['Content-Type'] = contentType || 'text/plain';
  let res;
  try {
    res = await fetch(apiUrl(path, params), {
      method,
      headers,
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', `Cannot reach the sagebox server (${e.message}). Is \`sagebox serve\` still running?`);
  }
  if (res.ok) return res;
  const text = await res.text();
  let detail = null;
  let parsed = null;
  try {
    parsed = JSON.parse(text);
    detail = parsed.error;
  } catch {
    // not JSON: use the text below
  }
  const message = (detail && detail.message) || text.slice(0, 500) || res.statusText;
  if (res.status === 401 && !token()) {
    if (unauthenticated && !quiet401) unauthenticated(message);
    throw new ApiError(401, 'Unauthenticated', message);
  }
  if (res.status === 401) {
    const how = 'Open the URL that `sagebox serve` printed (it ends in ?token=…), or sign in below.';
    throw new ApiError(401, 'Unauthenticated', `The server refused the dashboard token (HTTP 401). ${detail && detail.message ? detail.message : how}`);
  }
  if (res.status === 403 && method !== 'GET' && via === 'session' && !csrfToken()) {
    // signed in by a session cookie from another tab: this tab never saw the CSRF token
    throw new ApiError(403, (detail && detail.code) || 'PermissionDenied', `${message} (This tab has no CSRF token: sign out and sign in again here.)`);
  }
  throw new ApiError(res.status, (detail && detail.code) || `HTTP ${res.status}`, message, parsed);
}

async function json(res, path) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BadResponse', `${path} answered with something that is not JSON`);
  }
}

export async function getJson(path, params, { quiet401 = false } = {}) {
  return json(await send(path, { params, quiet401 }), path);
}

// POST with a JSON body; `quiet401` leaves a 401 to the caller (the sign-in form).
// A module's load(): whether this server answers `path` (a JSON list under `key`) at all.
// A 404 is an answer (the module is not served), not an error; anything else fails the
// tab as usual.
export async function probeList(path, key) {
  try {
    const r = await getJson(path);
    return { available: true, count: (r[key] || []).length };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { available: false, count: 0 };
    throw err;
  }
}

export async function postJson(path, body, { quiet401 = false } = {}) {
  const res = await send(path, { method: 'POST', body, quiet401 });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export async function putJson(path, body) {
  const res = await send(path, { method: 'PUT', body });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// POST a body as it is (e.g. a JSON Lines manifest) with its Content-Type; JSON answer.
export async function postText(path, text, contentType) {
  const res = await send(path, { method: 'POST', raw: text, contentType });
  const body = await res.text();
  return body ? JSON.parse(body) : null;
}

// GET a file with the caller's credentials: {blob, filename (from Content-Disposition, or
// ''), headers}.
export async function fetchFile(path, params) {
  const res = await send(path, { params, accept: '*/*' });
  const m = /filename="([^"]*)"/.exec(res.headers.get('Content-Disposition') || '');
  return { blob: await res.blob(), filename: m ? m[1] : '', headers: res.headers };
}

export async function del(path) {
  await send(path, { method: 'DELETE' });
}

// Fetches a file with the token and hands it to the browser as a download.
export async function download(path, params, filename) {
  const res = await send(path, { params, accept: 'text/csv' });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
