// The sign-in page: POST /api/login with a name and password. On success the server
// sets the HttpOnly session cookie and answers the CSRF token, kept in sessionStorage.
import { clearToken, postJson, setCsrfToken } from './api.js';
import { begin, h } from './ui.js';

export function showLogin(main, { notice, error, onSignedIn }) {
  begin(); // older renders in flight stop here
  document.getElementById('spinner').hidden = true;
  const name = h('input', { id: 'login-name', name: 'username', type: 'text', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', 'data-testid': 'login-name' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const message = h('p', { id: 'login-error', class: 'login-error', role: 'alert', 'data-testid': 'login-error', hidden: !error }, error || '');
  const info = h('p', { class: 'login-notice', role: 'status', 'data-testid': 'login-notice', hidden: !notice }, notice || '');
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Sign in');
  const form = h('form', { class: 'login-card', 'data-testid': 'login-form', 'aria-labelledby': 'login-title', novalidate: true },
    h('h1', { id: 'login-title' }, 'Sign in to sagebox'),
    info,
    h('label', { for: 'login-name' }, 'Name'),
    name,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    message,
    submit,
    h('p', { class: 'login-hint muted small' }, 'Have an API token? Open the URL that ', h('code', {}, 'sagebox serve'), ' printed, ending in ', h('code', {}, '?token=…'), '.'),
    h('p', { class: 'login-hint muted small' }, 'No account? An admin adds one with ', h('code', {}, 'sagebox users add NAME --password-stdin'), '.'));
  form.setAttribute('aria-describedby', 'login-error');

  const say = (text) => {
    message.textContent = text;
    message.hidden = !text;
    password.setAttribute('aria-invalid', text ? 'true' : 'false');
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    info.hidden = true;
    if (!name.value.trim() || !password.value) {
      say('Enter your name and password.');
      (name.value.trim() ? password : name).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    document.body.dataset.state = 'loading';
    clearToken(); // a refused ?token= must not ride along with the sign-in
    try {
      const r = await postJson('/api/login', { name: name.value.trim(), password: password.value }, { quiet401: true });
      setCsrfToken(r.csrf_token);
      onSignedIn({ name: r.name, role: r.role });
    } catch (err) {
      say(err.message || String(err));
      submit.disabled = false;
      submit.textContent = 'Sign in';
      password.select();
      password.focus();
      document.body.dataset.state = 'login';
    }
  });
  main.replaceChildren(h('section', { class: 'login', 'data-testid': 'view-login' }, form));
  document.body.dataset.state = 'login';
  window.__sagebox = { view: 'login', chart: null, query: null };
  name.focus();
}
