import type { Group } from '../api.ts';
import { formatCount } from '../format.ts';

export const FACET_FIELDS = [
  { field: 'event_type', label: 'Event type' },
  { field: 'user_id', label: 'Actor' },
  { field: 'resource_id', label: 'Resource' },
  { field: 'outcome', label: 'Outcome' },
] as const;

interface Props {
  facets: Record<string, Group[] | undefined>;
  onPick: (field: string, value: string) => void;
}

/** The top values of the common fields people narrow by; a click filters on the value. */
export function Facets({ facets, onPick }: Props) {
  return (
    <section class="facets" aria-label="Top values">
      {FACET_FIELDS.map(({ field, label }) => {
        const groups = facets[field];
        return (
          <div class="facet" key={field}>
            <h2 class="facet-title">{label}</h2>
            {!groups ? (
              <p class="muted">Loading…</p>
            ) : groups.length === 0 ? (
              <p class="muted">No values</p>
            ) : (
              <ul>
                {groups.map((g) => (
                  <li key={g.key}>
                    <button
                      type="button"
                      class="facet-value"
                      disabled={g.key === ''}
                      onClick={() => onPick(field, g.key ?? '')}
                      title={`Filter on ${label} = ${g.key || '(none)'}`}
                    >
                      <span class="facet-key">{g.key || '(none)'}</span>
                      <span class="facet-count">{formatCount(g.count)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
    </section>
  );
}
