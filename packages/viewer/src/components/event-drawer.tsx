import { useEffect, useRef, useState } from 'preact/hooks';
import type { AuditEvent } from '../api.ts';
import { formatTime } from '../format.ts';

export type Verification =
  | { state: 'checking' }
  | { state: 'ok'; text: string }
  | { state: 'pending'; text: string }
  | { state: 'failed'; text: string };

interface Props {
  event: AuditEvent;
  link: string;
  verification: Verification;
  onClose: () => void;
}

/** One event in full: its JSON, copy buttons, a link that reopens it, and its proof's verdict. */
export function EventDrawer({ event, link, verification, onClose }: Props) {
  const [copied, setCopied] = useState('');
  const closeRef = useRef<HTMLButtonElement>(null);
  const json = JSON.stringify(event, null, 2);
  useEffect(() => closeRef.current?.focus(), [event.event_id]);

  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`${what} copied`);
    } catch {
      setCopied(`Copy failed: select the text and copy it by hand`);
    }
  };

  return (
    <div
      class="drawer"
      role="dialog"
      aria-modal="false"
      aria-labelledby="drawer-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header class="drawer-head">
        <h2 id="drawer-title">{event.event_type}</h2>
        <button ref={closeRef} type="button" onClick={onClose} aria-label="Close event (Escape)">
          ×
        </button>
      </header>
      <p class="muted">
        {formatTime(event.timestamp)} · <code>{event.event_id}</code>
      </p>
      <p class={`verify verify-${verification.state}`} role="status" data-verification={verification.state}>
        {verification.state === 'checking' ? 'Checking the inclusion proof…' : verification.text}
      </p>
      <div class="actions">
        <button type="button" onClick={() => copy('JSON', json)}>
          Copy JSON
        </button>
        <button type="button" onClick={() => copy('ID', event.event_id)}>
          Copy ID
        </button>
        <button type="button" onClick={() => copy('Link', link)}>
          Copy link
        </button>
        <a href={link} class="permalink">
          Permalink
        </a>
      </div>
      <p class="muted" role="status">
        {copied}
      </p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1) */}
      <pre class="json" tabIndex={0}>
        {json}
      </pre>
    </div>
  );
}
