import { useEffect, useRef, useState } from 'preact/hooks';
import type { Client } from '../api.ts';
import { COMMON_FILTER_FIELDS, type Condition, OPERATORS, type Operator, paramOf } from '../state.ts';

interface Props {
  conditions: Condition[];
  /** Filters the token is pinned to: shown, never removable (the API applies them anyway). */
  pinned: [string, string][];
  /** `details.<path>` names seen in loaded events, suggested after the common fields. */
  knownPaths: string[];
  client: Client;
  baseParams: URLSearchParams;
  onAdd: (c: Condition) => void;
  onRemove: (c: Condition) => void;
  fieldRef: { current: HTMLInputElement | null };
}

const NO_VALUE: ReadonlySet<Operator> = new Set();

/** Field, operator, value: the API's `field[op]=value`, with names and values suggested. */
export function FilterBar(p: Props) {
  const [field, setField] = useState('');
  const [op, setOp] = useState<Operator>('eq');
  const [value, setValue] = useState('');
  const [values, setValues] = useState<string[]>([]);
  const [problem, setProblem] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // Values for the field being typed: the top values under the current filter (/events/stats).
  useEffect(() => {
    clearTimeout(timer.current);
    setValues([]);
    if (!(COMMON_FILTER_FIELDS.includes(field) || (field.startsWith('details.') && field.length > 8))) return;
    timer.current = setTimeout(() => {
      p.client
        .groups(p.baseParams, { group_by: field, top: '20' })
        .then((r) => setValues(r.groups.map((g) => g.key ?? '').filter((k) => k !== '')))
        .catch(() => setValues([]));
    }, 250);
    return () => clearTimeout(timer.current);
  }, [field, p.baseParams, p.client]);

  const submit = (e: Event) => {
    e.preventDefault();
    const f = field.trim();
    if (f === '') return setProblem('Choose a field, e.g. event_type or details.plan.');
    if (!COMMON_FILTER_FIELDS.includes(f) && !f.startsWith('details.')) {
      return setProblem(`"${f}" is not a field: use a common field or details.<path>.`);
    }
    const v = op === 'exists' && value === '' ? 'true' : value;
    if (v === '' && !NO_VALUE.has(op)) return setProblem('Enter a value.');
    setProblem('');
    p.onAdd({ field: f, op, value: v });
    setValue('');
  };

  return (
    <section class="filters" aria-label="Filters">
      <form class="filter-form" onSubmit={submit}>
        <label>
          <span class="label">Field</span>
          <input
            ref={p.fieldRef}
            name="field"
            list="av-fields"
            value={field}
            placeholder="event_type or details.path"
            autocomplete="off"
            onInput={(e) => setField((e.target as HTMLInputElement).value)}
          />
        </label>
        <datalist id="av-fields">
          {[...COMMON_FILTER_FIELDS, ...p.knownPaths].map((f) => (
            <option key={f} value={f} />
          ))}
        </datalist>
        <label>
          <span class="label">Operator</span>
          <select
            name="op"
            value={op}
            onChange={(e) => setOp((e.target as HTMLSelectElement).value as Operator)}
          >
            {OPERATORS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="label">Value</span>
          <input
            name="value"
            list="av-values"
            value={value}
            placeholder={op === 'in' ? 'a,b,c' : op === 'exists' ? 'true or false' : 'value'}
            autocomplete="off"
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
        </label>
        <datalist id="av-values">
          {values.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
        <button type="submit">Add filter</button>
      </form>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <ul class="chips" aria-label="Active filters">
        {p.pinned.map(([name, v]) => (
          <li key={`pin-${name}`} class="chip pinned" title="Pinned by your token: it cannot be removed">
            <span aria-hidden="true">🔒 </span>
            <span class="sr-only">Pinned filter: </span>
            {name} = {v}
          </li>
        ))}
        {p.conditions.map((c) => (
          <li key={paramOf(c)} class="chip">
            {paramOf(c)} = {c.value}
            <button
              type="button"
              class="chip-remove"
              aria-label={`Remove filter ${paramOf(c)}`}
              onClick={() => p.onRemove(c)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
