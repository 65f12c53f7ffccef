/**
 * The query API's own page (`/ui/`): one full-page <audit-viewer>. A token arrives as
 * `#token=…` (a fragment never reaches a server or its logs) or from the login form, and is
 * kept in this tab's sessionStorage only.
 */
import './element.tsx';

const KEY = 'audit-viewer-token';
const el = document.querySelector('audit-viewer') as HTMLElement;
const hash = new URLSearchParams(location.hash.slice(1));
const fromHash = hash.get('token');
if (fromHash) {
  sessionStorage.setItem(KEY, fromHash);
  hash.delete('token');
  const rest = hash.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}
// The API is the parent of /ui/ (works behind a path prefix too).
el.setAttribute('base-url', new URL('..', location.href).href.replace(/\/$/, ''));
const stored = sessionStorage.getItem(KEY);
if (stored) el.setAttribute('token', stored);
el.addEventListener('audit-viewer-token', (e) => {
  const token = (e as CustomEvent<string>).detail;
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
});
