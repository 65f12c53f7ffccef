import { verifyEventProof } from '@audit/tlog';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiFailure, type AuditEvent, type Client, createClient, type Group, type Session } from './api.ts';
import { EventDrawer, type Verification } from './components/event-drawer.tsx';
import { EventList } from './components/event-list.tsx';
import { FACET_FIELDS, Facets } from './components/facets.tsx';
import { FilterBar } from './components/filter-bar.tsx';
import { Histogram } from './components/histogram.tsx';
import { Login } from './components/login.tsx';
import { TimeRange } from './components/time-range.tsx';
import { detailPaths, formatCount } from './format.ts';
import {
  apiParams,
  type Condition,
  decodeState,
  encodeState,
  fillBuckets,
  isRelative,
  paramOf,
  pickInterval,
  resolveRange,
  type ViewState,
  withCondition,
} from './state.ts';

export interface AppProps {
  baseUrl: string;
  token: string;
  /** Keep the view in the page's URL (the /ui page); an embedding host usually does not. */
  syncUrl: boolean;
  /** Verifier keys pinned by the host; without them the server's /keys are used, and said so. */
  verifierKeys: string[];
  theme: 'light' | 'dark' | 'auto';
  tailMs: number;
  onToken: (token: string) => void;
}

type Load<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: ApiFailure };

const PAGE = 100;

const failure = (err: unknown) =>
  err instanceof ApiFailure ? err : new ApiFailure(0, 'client', (err as Error)?.message ?? String(err));

function ErrorBox({ error, retry }: { error: ApiFailure; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p>
        <strong>{error.status ? `Error ${error.status}` : 'Error'}:</strong> {error.message}
      </p>
      <p>{error.hint}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

function useDark(theme: AppProps['theme']): [boolean, (dark: boolean) => void] {
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
  const [choice, setChoice] = useState<boolean | undefined>(theme === 'auto' ? undefined : theme === 'dark');
  const [system, setSystem] = useState(media?.matches ?? false);
  useEffect(() => setChoice(theme === 'auto' ? undefined : theme === 'dark'), [theme]);
  useEffect(() => {
    const on = (e: MediaQueryListEvent) => setSystem(e.matches);
    media?.addEventListener('change', on);
    return () => media?.removeEventListener('change', on);
  }, []);
  return [choice ?? system, setChoice];
}

export function App(props: AppProps) {
  if (!props.token) return <Shell {...props} />;
  return <Viewer {...props} key={props.token} />;
}

function Shell(props: AppProps) {
  const [dark] = useDark(props.theme);
  return (
    <div class={`av ${dark ? 'theme-dark' : 'theme-light'}`}>
      <Login onToken={props.onToken} />
    </div>
  );
}

function Viewer(props: AppProps) {
  const client = useMemo(() => createClient(props.baseUrl, props.token), [props.baseUrl, props.token]);
  const [dark, setDark] = useDark(props.theme);
  const [view, setView] = useState<ViewState>(() =>
    props.syncUrl ? decodeState(location.search) : decodeState(''),
  );
  const [session, setSession] = useState<Load<Session>>({ state: 'loading' });
  // Every query of one screen uses the same instant, so list, count, chart and export agree.
  const [asOf, setAsOf] = useState(() => Date.now());
  const params = useMemo(() => apiParams(view, asOf), [view.range, view.conditions, asOf]);

  const [rows, setRows] = useState<Load<{ events: AuditEvent[]; cursor: string | null }>>({
    state: 'loading',
  });
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const [count, setCount] = useState<number | undefined>();
  const [hist, setHist] = useState<Load<{ t: number[]; n: number[]; label: string }>>({ state: 'loading' });
  const [facets, setFacets] = useState<Record<string, Group[] | undefined>>({});
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState<AuditEvent | undefined>();
  const [verification, setVerification] = useState<Verification>({ state: 'checking' });
  const [verified, setVerified] = useState<Record<string, 'ok' | 'failed' | undefined>>({});
  const [tail, setTail] = useState(false);
  const [atTop, setAtTop] = useState(true);
  const [pending, setPending] = useState<AuditEvent[]>([]);
  const [notice, setNotice] = useState('');
  const loadingMore = useRef(false);
  const fieldRef = useRef<HTMLInputElement | null>(null);
  const listRef = useRef<HTMLDivElement | null>(null);
  const generation = useRef(0);

  useEffect(() => {
    client
      .session()
      .then((value) => setSession({ state: 'ready', value }))
      .catch((err) => setSession({ state: 'error', error: failure(err) }));
  }, [client]);

  // The URL mirrors the view: a bookmark or a shared link reopens the same screen.
  useEffect(() => {
    if (!props.syncUrl) return;
    const q = encodeState(view);
    const url = `${location.pathname}${q ? `?${q}` : ''}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  }, [view, props.syncUrl]);

  const load = useCallback(() => {
    const gen = ++generation.current;
    const current = () => gen === generation.current;
    const { from, to } = resolveRange(view.range, asOf);
    const interval = pickInterval(from, to);
    setRows({ state: 'loading' });
    setHist({ state: 'loading' });
    setCount(undefined);
    setFacets({});
    setPending([]);
    setActive(0);
    const first = client
      .list(params, undefined, PAGE)
      .then(
        (p) => current() && setRows({ state: 'ready', value: { events: p.events, cursor: p.next_cursor } }),
      )
      .catch((err) => current() && setRows({ state: 'error', error: failure(err) }));
    const chart = client
      .groups(params, { interval })
      .then((r) => {
        if (!current()) return;
        const b = fillBuckets(r.groups as { bucket: string; count: number }[], from, to, interval);
        setHist({ state: 'ready', value: { ...b, label: `Events per ${interval}` } });
      })
      .catch((err) => current() && setHist({ state: 'error', error: failure(err) }));
    client
      .count(params)
      .then((n) => current() && setCount(n))
      .catch(() => undefined);
    // Facets scan every matching row: they wait for the rows and the chart, which the user
    // looks at first, so as not to compete with them for the server's cores (bench: viewer stage).
    Promise.allSettled([first, chart]).then(() => {
      for (const { field } of FACET_FIELDS) {
        if (!current()) return;
        client
          .groups(params, { group_by: field, top: '5' })
          .then((r) => current() && setFacets((f) => ({ ...f, [field]: r.groups })))
          .catch(() => current() && setFacets((f) => ({ ...f, [field]: [] })));
      }
    });
  }, [client, params]);

  useEffect(load, [load]);

  const loadMore = useCallback(() => {
    if (rows.state !== 'ready' || !rows.value.cursor || loadingMore.current) return;
    loadingMore.current = true;
    const gen = generation.current;
    client
      .list(params, rows.value.cursor, PAGE)
      .then((p) => {
        if (gen !== generation.current) return;
        setRows((r) =>
          r.state === 'ready'
            ? { state: 'ready', value: { events: [...r.value.events, ...p.events], cursor: p.next_cursor } }
            : r,
        );
      })
      .catch((err) => setNotice(`Loading more failed: ${failure(err).message}`))
      .finally(() => {
        loadingMore.current = false;
      });
  }, [client, params, rows]);

  // Live tail: the newest page is polled; new events go on top while the list is at its top,
  // and wait behind a button while the user reads further down.
  useEffect(() => {
    if (!tail || !isRelative(view.range)) return;
    const timer = setInterval(() => {
      const now = Date.now();
      const p = apiParams(view, now);
      const gen = generation.current;
      client
        .list(p, undefined, PAGE)
        .then((page) => {
          if (gen !== generation.current) return;
          const seen = new Set<string>();
          const r = rowsRef.current;
          if (r.state === 'ready') for (const e of r.value.events) seen.add(e.event_id);
          setPending((q) => {
            for (const e of q) seen.add(e.event_id);
            const fresh = page.events.filter((e) => !seen.has(e.event_id));
            return fresh.length ? [...fresh, ...q] : q;
          });
        })
        .catch((err) => setNotice(`Live tail: ${failure(err).message}`));
    }, props.tailMs);
    return () => clearInterval(timer);
  }, [tail, view, client, props.tailMs]);

  useEffect(() => {
    if (!pending.length || !atTop) return;
    setRows((r) =>
      r.state === 'ready'
        ? { state: 'ready', value: { ...r.value, events: [...pending, ...r.value.events] } }
        : r,
    );
    setCount((c) => (c === undefined ? c : c + pending.length));
    setPending([]);
  }, [pending, atTop]);

  // The open event: from the URL (a permalink) or a click; its proof is checked here, in the browser.
  useEffect(() => {
    const id = view.event;
    if (!id) return setOpen(undefined);
    const known = rows.state === 'ready' ? rows.value.events.find((e) => e.event_id === id) : undefined;
    if (known) setOpen(known);
    else if (!open || open.event_id !== id) {
      client
        .event(id)
        .then(setOpen)
        .catch((err) => {
          setNotice(`Event ${id}: ${failure(err).message}`);
          setView((v) => ({ ...v, event: undefined }));
        });
    }
  }, [view.event, client, rows.state]);

  useEffect(() => {
    if (!open) return;
    let live = true;
    setVerification({ state: 'checking' });
    (async () => {
      const pinned = props.verifierKeys.length > 0;
      let proof: Awaited<ReturnType<Client['proof']>>;
      try {
        proof = await client.proof(open.event_id);
      } catch (err) {
        const e = failure(err);
        if (e.status === 409 || e.status === 404) {
          return {
            state: 'pending',
            text: `Not sealed yet: ${e.message}. Checkpoints are signed every few seconds.`,
          } as const;
        }
        return { state: 'failed', text: `No proof: ${e.message}` } as const;
      }
      const keys = pinned ? props.verifierKeys : await client.keys().catch(() => []);
      const r = await verifyEventProof(open, proof, keys);
      if (!r.ok) return { state: 'failed', text: `Verification FAILED: ${r.reason}` } as const;
      const source = pinned
        ? 'a key pinned by the host'
        : "the server's published key (pin it for independence)";
      return {
        state: 'ok',
        text: `Verified in this browser: leaf ${r.leafIndex} of a tree of ${r.treeSize}, checkpoint signed by ${r.keyNames.join(', ')} — ${source}.`,
      } as const;
    })().then((v) => {
      if (!live) return;
      setVerification(v);
      if (v.state === 'ok' || v.state === 'failed')
        setVerified((m) => ({ ...m, [open.event_id]: v.state as 'ok' | 'failed' }));
    });
    return () => {
      live = false;
    };
  }, [open?.event_id, client]);

  const setRange = (range: ViewState['range']) => {
    setAsOf(Date.now());
    setView((v) => ({ ...v, range }));
  };
  const addCondition = (c: Condition) => {
    setAsOf(Date.now());
    setView((v) => ({ ...v, conditions: withCondition(v.conditions, c) }));
  };
  const removeCondition = (c: Condition) => {
    setAsOf(Date.now());
    setView((v) => ({ ...v, conditions: v.conditions.filter((x) => paramOf(x) !== paramOf(c)) }));
  };
  const openEvent = (e: AuditEvent) => {
    setOpen(e);
    setView((v) => ({ ...v, event: e.event_id }));
  };
  const closeEvent = () => {
    setView((v) => ({ ...v, event: undefined }));
    listRef.current?.focus();
  };

  const exportAs = async (format: 'csv' | 'ndjson') => {
    setNotice(`Exporting ${format.toUpperCase()}…`);
    try {
      const blob = await client.exportBlob(params, format);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `audit-events.${format === 'csv' ? 'csv' : 'ndjson'}`;
      listRef.current?.parentElement?.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      setNotice(`Exported ${format.toUpperCase()} (${formatCount(blob.size)} bytes).`);
    } catch (err) {
      setNotice(`Export failed: ${failure(err).message}`);
    }
  };

  const onKey = (e: KeyboardEvent) => {
    const target = e.composedPath()[0] as HTMLElement | undefined;
    const typing = target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (e.key === '/' && !typing) {
      e.preventDefault();
      fieldRef.current?.focus();
    } else if (e.key === 'Escape' && view.event) closeEvent();
  };

  const keyHandler = useRef(onKey);
  keyHandler.current = onKey;
  const rootRef = useRef<HTMLDivElement>(null);
  // The full page (/ui) takes `/` from anywhere; an embedded viewer only while focus is in it.
  useEffect(() => {
    const el: EventTarget | null = props.syncUrl ? document : rootRef.current;
    const on = (e: Event) => keyHandler.current(e as KeyboardEvent);
    el?.addEventListener('keydown', on);
    return () => el?.removeEventListener('keydown', on);
  }, [session.state, props.syncUrl]);

  const knownPaths = useMemo(() => {
    const out = new Set<string>();
    if (rows.state === 'ready')
      for (const e of rows.value.events.slice(0, 200)) detailPaths(e.event_details, 'details.', out);
    return [...out].sort();
  }, [rows]);

  const link = (id: string) => {
    const q = encodeState({ ...view, event: id });
    return props.syncUrl
      ? `${location.origin}${location.pathname}?${q}`
      : `${props.baseUrl.replace(/\/+$/, '')}/ui/?${q}`;
  };

  if (session.state === 'error' && session.error.status === 401) {
    return (
      <div class={`av ${dark ? 'theme-dark' : 'theme-light'}`}>
        <Login onToken={props.onToken} problem={`${session.error.message}. ${session.error.hint}`} />
      </div>
    );
  }
  const pinned = session.state === 'ready' ? Object.entries(session.value.filters ?? {}) : [];
  const events = rows.state === 'ready' ? rows.value.events : [];

  return (
    <div class={`av ${dark ? 'theme-dark' : 'theme-light'}`} ref={rootRef}>
      <header class="top">
        <h1>Audit trail</h1>
        <span class="muted who">
          {session.state === 'ready' ? session.value.subject : ''}
          {session.state === 'ready' && session.value.expires_at
            ? ` · until ${session.value.expires_at}`
            : ''}
        </span>
        <div class="top-actions">
          <button
            type="button"
            onClick={() => setDark(!dark)}
            aria-label={`Switch to ${dark ? 'light' : 'dark'} theme`}
          >
            {dark ? 'Light' : 'Dark'}
          </button>
          <button type="button" onClick={() => props.onToken('')}>
            Sign out
          </button>
        </div>
      </header>
      <div class="controls">
        <TimeRange range={view.range} onChange={setRange} />
        <div class="toolbar">
          <label class="tail">
            <input
              type="checkbox"
              checked={tail}
              disabled={!isRelative(view.range)}
              onChange={(e) => setTail((e.target as HTMLInputElement).checked)}
            />
            <span>Live tail{isRelative(view.range) ? '' : ' (relative ranges only)'}</span>
          </label>
          <button type="button" onClick={() => setRange(view.range)}>
            Refresh
          </button>
          <button type="button" onClick={() => exportAs('csv')}>
            Export CSV
          </button>
          <button type="button" onClick={() => exportAs('ndjson')}>
            Export NDJSON
          </button>
        </div>
      </div>
      <FilterBar
        conditions={view.conditions}
        pinned={pinned}
        knownPaths={knownPaths}
        client={client}
        baseParams={params}
        onAdd={addCondition}
        onRemove={removeCondition}
        fieldRef={fieldRef}
      />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <section class="overview" aria-label="Overview">
        <p class="count" data-count={count ?? ''}>
          {count === undefined ? 'Counting…' : `${formatCount(count)} events`}
        </p>
        {hist.state === 'loading' && (
          <div class="histogram placeholder" aria-busy="true">
            Loading chart…
          </div>
        )}
        {hist.state === 'error' && <ErrorBox error={hist.error} retry={load} />}
        {hist.state === 'ready' && (
          <Histogram
            t={hist.value.t}
            n={hist.value.n}
            dark={dark}
            label={hist.value.label}
            onZoom={(from, to) =>
              setRange({ from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString() })
            }
          />
        )}
      </section>
      <div class="body">
        <Facets facets={facets} onPick={(field, value) => addCondition({ field, op: 'eq', value })} />
        <section class="results" aria-label="Results">
          {pending.length > 0 && (
            <button
              type="button"
              class="pending"
              onClick={() => {
                if (listRef.current) listRef.current.scrollTop = 0;
                setAtTop(true);
              }}
            >
              {pending.length} new event{pending.length === 1 ? '' : 's'} — show
            </button>
          )}
          {rows.state === 'loading' && (
            <p class="muted" aria-busy="true">
              Loading events…
            </p>
          )}
          {rows.state === 'error' && <ErrorBox error={rows.error} retry={load} />}
          {rows.state === 'ready' && events.length === 0 && (
            <div class="empty">
              <p>
                <strong>No events match.</strong>
              </p>
              <p>Widen the time range, remove a filter, or check that producers send to this tenant.</p>
            </div>
          )}
          {rows.state === 'ready' && events.length > 0 && (
            <>
              <div class="row head" aria-hidden="true">
                <span class="cell time">Time (UTC)</span>
                <span class="cell type">Type</span>
                <span class="cell actor">Actor</span>
                <span class="cell outcome">Outcome</span>
                <span class="cell what">What</span>
                <span class="cell proof" />
              </div>
              <EventList
                events={events}
                active={active}
                onActive={setActive}
                onOpen={openEvent}
                onNearEnd={loadMore}
                onAtTop={setAtTop}
                verified={verified}
                listRef={listRef}
              />
            </>
          )}
        </section>
        {open && view.event && (
          <EventDrawer
            event={open}
            link={link(open.event_id)}
            verification={verification}
            onClose={closeEvent}
          />
        )}
      </div>
      <footer class="muted keys">Keys: / filter · ↑↓ or j k move · Enter open · Esc close</footer>
    </div>
  );
}
