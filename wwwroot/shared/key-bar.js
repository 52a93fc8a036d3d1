// The header every page shares — title, navigation and the API-key field — built here once. The key
// is saved in localStorage; the bar says when it is missing or rejected.
import { api, getApiKey, setApiKey } from './api.js';
import { el } from './dom.js';

const pages = [['/add-jobs/', 'Add jobs'], ['/view-jobs/', 'View jobs'], ['/profiles/', 'Profiles'], ['/keys/', 'Keys']];
const noKey = 'No API key yet: paste the key the host was started with (run.sh prints it).';

/** Puts the header at the top of the body; onChange runs after a new key is saved. */
export function setUpHeader(onChange) {
  const input = el('input', { id: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const status = el('span', { id: 'key-status', class: 'status', role: 'status' });
  const form = el('form', { class: 'key-bar' },
    el('label', { for: 'api-key' }, 'API key'), input, el('button', { type: 'submit' }, 'Save key'), status);
  const nav = el('nav', { 'aria-label': 'Pages' }, ...pages.map(([href, text]) =>
    el('a', { href, 'aria-current': location.pathname === href ? 'page' : null }, text)));
  document.body.prepend(el('header', { class: 'site' }, el('h1', {}, 'VideoEncode'), nav, form));

  const show = (text, isProblem) => {
    status.textContent = text;
    status.classList.toggle('error', isProblem);
  };
  // Names the saved key and its role (GET /api/keys/current answers any valid key), so a person
  // knows why an action is refused; the pages ask currentKey() to offer only what the role allows.
  let current = Promise.resolve(null);
  const describe = () => {
    if (!getApiKey()) {
      current = Promise.resolve(null);
      show(noKey, true);
      return;
    }
    show('Key saved in this browser.', false);
    current = api('GET', '/api/keys/current').catch(() => null);
    current.then(key => { if (key) show(`Key “${key.name}” (${key.role}) saved in this browser.`, false); });
  };

  input.value = getApiKey();
  form.addEventListener('submit', event => {
    event.preventDefault();
    setApiKey(input.value.trim());
    describe();
    onChange();
  });
  describe();

  return {
    /** The saved key's {name, role}, or null when there is none or the host refuses it. */
    currentKey: () => current,
    /** Given a failed request's ApiError: when the key is the problem, says so and answers true. */
    reportProblem(error) {
      if (!error?.isKeyProblem) return false;
      show(getApiKey() ? 'The host rejected this API key. Check it and save again.' : noKey, true);
      return true;
    },
  };
}
