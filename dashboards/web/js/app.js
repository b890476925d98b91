import { api, ApiError, token } from './api.js';
import { h, replace } from './dom.js';
import { overview } from './views/overview.js';
import { findings } from './views/findings.js';
import { agents, agentTimeline } from './views/agent.js';
import { credentials } from './views/credentials.js';
import { integrity } from './views/integrity.js';

/** The dashboard's shell: the token prompt, the section links, and a hash router that draws one view at a time. */
const view = document.getElementById('view');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');
const status = document.getElementById('status');

const TITLES = { overview: 'Overview', findings: 'Findings', agents: 'Agents', credentials: 'Credentials', integrity: 'Integrity' };

function showLogin(message = null) {
  nav.hidden = true;
  signOut.hidden = true;
  document.title = 'Sign in · Intent Ledger';
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help' });
  replace(
    view,
    h(
      'form',
      {
        class: 'login panel',
        'aria-labelledby': 'login-title',
        onsubmit: async (e) => {
          e.preventDefault();
          token.set(input.value.trim());
          try {
            await api('/v1/integrity');
          } catch (err) {
            token.clear();
            showLogin(err instanceof ApiError && err.status === 401 ? 'That token was not accepted.' : `Could not check the token: ${err.message}`);
            return;
          }
          if (!location.hash || location.hash === '#') location.hash = '#/overview';
          else render();
        },
      },
      h('h2', { id: 'login-title' }, 'Analyst token'),
      h('p', { id: 'token-help' }, 'Paste the token that ', h('code', null, 'intent-ledger api-token NAME ROLE'), ' printed. It is kept in this tab only (sessionStorage) and sent with every request.'),
      message ? h('p', { class: 'error', role: 'alert' }, message) : null,
      h('label', { for: 'token' }, 'Token'),
      input,
      h('button', { type: 'submit' }, 'Open dashboard'),
    ),
  );
  input.focus();
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, params: new URLSearchParams(query) };
}

let drawing = 0;
async function render() {
  if (!token.get()) return showLogin();
  const { parts, params } = parseHash();
  const section = TITLES[parts[0]] ? parts[0] : 'overview';
  nav.hidden = false;
  signOut.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${section === 'agents' && parts[1] ? `Agent ${parts[1]}` : TITLES[section]} · Intent Ledger`;
  const mine = ++drawing;
  status.textContent = 'Loading…';
  view.setAttribute('aria-busy', 'true');
  // Each view draws into a detached element, so a slow answer to an earlier click cannot overwrite a later one.
  const target = h('div');
  try {
    if (section === 'findings') await findings(target, params);
    else if (section === 'agents' && parts[1]) await agentTimeline(target, params, parts[1]);
    else if (section === 'agents') await agents(target, params);
    else if (section === 'credentials') await credentials(target, params);
    else if (section === 'integrity') await integrity(target, params);
    else await overview(target, params);
    if (mine !== drawing) return;
    replace(view, ...target.childNodes);
    view.dataset.rendered = location.hash;
    status.textContent = '';
    view.querySelector('h2')?.focus({ preventScroll: true });
  } catch (err) {
    if (mine !== drawing) return;
    if (err instanceof ApiError && err.status === 401) {
      token.clear();
      return showLogin('The token is no longer accepted; enter another.');
    }
    status.textContent = '';
    view.dataset.rendered = location.hash;
    replace(view, h('div', { class: 'error panel', role: 'alert' }, h('h2', null, 'Could not load this view'), h('p', null, `${err.code ?? 'ERROR'}: ${err.message}`)));
  } finally {
    if (mine === drawing) view.removeAttribute('aria-busy');
  }
}

signOut.addEventListener('click', () => {
  token.clear();
  showLogin('Token forgotten.');
});
window.addEventListener('hashchange', render);
render();
