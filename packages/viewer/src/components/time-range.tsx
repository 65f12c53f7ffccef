import { isRelative, PRESETS, type Range } from '../state.ts';

interface Props {
  range: Range;
  onChange: (r: Range) => void;
}

/** `datetime-local` works in local time; the API and the URL keep UTC instants. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (v: string) => new Date(v).toISOString();

export function TimeRange({ range, onChange }: Props) {
  const relative = isRelative(range);
  return (
    <fieldset class="time-range">
      <legend class="sr-only">Time range</legend>
      <label>
        <span class="label">Range</span>
        <select
          value={relative ? range.preset : 'custom'}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            if (v === 'custom') {
              const to = new Date();
              const from = new Date(to.getTime() - 3600_000);
              onChange({ from: from.toISOString(), to: to.toISOString() });
            } else onChange({ preset: v });
          }}
        >
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {!relative && (
        <>
          <label>
            <span class="label">From</span>
            <input
              type="datetime-local"
              value={toLocalInput(range.from)}
              onChange={(e) => {
                const v = (e.target as HTMLInputElement).value;
                if (v) onChange({ from: fromLocalInput(v), to: range.to });
              }}
            />
          </label>
          <label>
            <span class="label">To</span>
            <input
              type="datetime-local"
              value={toLocalInput(range.to)}
              onChange={(e) => {
                const v = (e.target as HTMLInputElement).value;
                if (v) onChange({ from: range.from, to: fromLocalInput(v) });
              }}
            />
          </label>
        </>
      )}
    </fieldset>
  );
}
