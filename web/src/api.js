// The dashboard's only way to talk to the server: the JSON API of docs/api.md.
const TOKEN_KEY = 'sagebox.token';

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

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
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

function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function send(path, { method = 'GET', params, body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept, ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(apiUrl(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', `Cannot reach the sagebox server (${e.message}). Is \`sagebox serve\` still running?`);
  }
  if (res.ok) return res;
  const text = await res.text();
  let detail = null;
  try {
    detail = JSON.parse(text).error;
  } catch {
    // not JSON: use the text below
  }
  const message = (detail && detail.message) || text.slice(0, 500) || res.statusText;
  if (res.status === 401) {
    const lead = token() ? 'The server refused the dashboard token (HTTP 401).' : 'This server needs a dashboard token (HTTP 401).';
    const how = 'Open the URL that `sagebox serve` printed (it ends in ?token=…).';
    throw new ApiError(401, 'Unauthenticated', `${lead} ${detail && detail.message ? detail.message : how}`);
  }
  throw new ApiError(res.status, (detail && detail.code) || `HTTP ${res.status}`, message);
}

export async function getJson(path, params) {
  const res = await send(path, { params });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BadResponse', `${path} answered with something that is not JSON`);
  }
}

export async function putJson(path, body) {
  const res = await send(path, { method: 'PUT', body });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
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
