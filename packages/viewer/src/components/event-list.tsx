import { useEffect, useRef, useState } from 'preact/hooks';
import type { AuditEvent } from '../api.ts';
import { formatTime, summary } from '../format.ts';
import { scrollToShow, visibleWindow } from '../virtual.ts';

export const ROW_HEIGHT = 44;

interface Props {
  events: AuditEvent[];
  active: number;
  onActive: (i: number) => void;
  onOpen: (e: AuditEvent) => void;
  /** Near the end of what is loaded: fetch the next page. */
  onNearEnd: () => void;
  /** Whether the list is scrolled to its top (live tail inserts only then). */
  onAtTop: (atTop: boolean) => void;
  verified: Record<string, 'ok' | 'failed' | undefined>;
  listRef: { current: HTMLDivElement | null };
}

/**
 * A listbox of fixed-height rows of which only the visible ones exist in the DOM, so a page of
 * thousands of loaded events scrolls like a page of ten. Arrow keys / j k move, Enter opens.
 */
export function EventList(p: Props) {
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);
  const el = p.listRef;
  const near = useRef(p.onNearEnd);
  near.current = p.onNearEnd;

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const ro = new ResizeObserver(() => setHeight(node.clientHeight));
    ro.observe(node);
    return () => ro.disconnect();
  }, [el]);

  const { start, end } = visibleWindow(scrollTop, height, ROW_HEIGHT, p.events.length);
  useEffect(() => {
    if (end >= p.events.length - 10) near.current();
  }, [end, p.events.length]);

  const move = (i: number) => {
    const next = Math.max(0, Math.min(p.events.length - 1, i));
    p.onActive(next);
    const node = el.current;
    if (!node) return;
    const top = scrollToShow(next, node.scrollTop, node.clientHeight, ROW_HEIGHT);
    if (top !== undefined) node.scrollTop = top;
  };

  const onKey = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(p.active + 1),
      j: () => move(p.active + 1),
      ArrowUp: () => move(p.active - 1),
      k: () => move(p.active - 1),
      PageDown: () => move(p.active + page),
      PageUp: () => move(p.active - page),
      Home: () => move(0),
      End: () => move(p.events.length - 1),
      Enter: () => {
        const ev = p.events[p.active];
        if (ev) p.onOpen(ev);
      },
    };
    const act = keys[e.key];
    if (act) {
      e.preventDefault();
      act();
    }
  };

  const activeEvent = p.events[p.active];
  return (
    <div
      ref={el}
      class="event-list"
      role="listbox"
      tabIndex={0}
      aria-label={`Events (${p.events.length} loaded). Arrow keys move, Enter opens.`}
      aria-activedescendant={activeEvent ? `row-${activeEvent.event_id}` : undefined}
      onKeyDown={onKey}
      onScroll={(e) => {
        const top = (e.target as HTMLDivElement).scrollTop;
        setScrollTop(top);
        p.onAtTop(top < 4);
      }}
    >
      <div style={{ height: `${p.events.length * ROW_HEIGHT}px`, position: 'relative' }}>
        {p.events.slice(start, end).map((ev, k) => {
          const i = start + k;
          const v = p.verified[ev.event_id];
          return (
            // biome-ignore lint/a11y/useFocusableInteractive: options of an aria-activedescendant listbox take no focus; the listbox handles the keys
            // biome-ignore lint/a11y/useKeyWithClickEvents: same: Enter on the listbox opens the active option
            <div
              key={ev.event_id}
              id={`row-${ev.event_id}`}
              role="option"
              aria-selected={i === p.active}
              class={`row${i === p.active ? ' active' : ''}`}
              style={{ top: `${i * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px` }}
              data-event-id={ev.event_id}
              onClick={() => {
                p.onActive(i);
                p.onOpen(ev);
              }}
            >
              <span class="cell time">{formatTime(ev.timestamp)}</span>
              <span class="cell type">{ev.event_type}</span>
              <span class="cell actor">{ev.user_id}</span>
              <span class="cell outcome">{ev.outcome ?? ''}</span>
              <span class="cell what">{summary(ev)}</span>
              <span class="cell proof">
                {v === 'ok' ? '✓' : v === 'failed' ? '✗' : ''}
                {v && (
                  <span class="sr-only">{v === 'ok' ? 'inclusion verified' : 'verification failed'}</span>
                )}
              </span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
