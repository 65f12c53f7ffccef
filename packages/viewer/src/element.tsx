/**
 * `<audit-viewer base-url="https://audit.example.com" token="…">`: the viewer as a custom
 * element a host page drops in. It renders into an open shadow root with a constructed style
 * sheet, so host CSS and the viewer's cannot collide and a strict CSP (no inline styles) holds.
 *
 * Attributes: base-url (the query API), token (a viewer token), theme (light | dark | auto),
 * sync-url (keep the view in the page URL), verifier-keys (space-separated note verifier keys
 * to check proofs against instead of the server's), tail-interval (ms, default 5000).
 * Events: `audit-viewer-token` (detail: the new token, '' on sign-out) when the user changes it.
 */
import { render } from 'preact';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { App } from './app.tsx';
import css from './styles.css?inline';

let sheet: CSSStyleSheet | undefined;
const styles = () => {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(`${uplotCss}\n${css}`);
  }
  return sheet;
};

export class AuditViewerElement extends HTMLElement {
  static observedAttributes = ['base-url', 'token', 'theme', 'sync-url', 'verifier-keys', 'tail-interval'];
  #root: ShadowRoot | undefined;

  connectedCallback() {
    if (!this.#root) {
      this.#root = this.attachShadow({ mode: 'open' });
      this.#root.adoptedStyleSheets = [styles()];
    }
    this.#render();
  }

  disconnectedCallback() {
    if (this.#root) render(null, this.#root);
  }

  attributeChangedCallback() {
    if (this.#root) this.#render();
  }

  #render() {
    const theme = this.getAttribute('theme');
    const tail = Number(this.getAttribute('tail-interval'));
    render(
      <App
        baseUrl={this.getAttribute('base-url') ?? location.origin}
        token={this.getAttribute('token') ?? ''}
        syncUrl={this.hasAttribute('sync-url')}
        verifierKeys={(this.getAttribute('verifier-keys') ?? '').split(/\s+/).filter(Boolean)}
        theme={theme === 'light' || theme === 'dark' ? theme : 'auto'}
        tailMs={Number.isFinite(tail) && tail >= 1000 ? tail : 5000}
        onToken={(token) => {
          this.setAttribute('token', token);
          this.dispatchEvent(
            new CustomEvent('audit-viewer-token', { detail: token, bubbles: true, composed: true }),
          );
        }}
      />,
      this.#root as ShadowRoot,
    );
  }
}

if (!customElements.get('audit-viewer')) customElements.define('audit-viewer', AuditViewerElement);
