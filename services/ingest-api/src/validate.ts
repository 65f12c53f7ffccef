import { ApiError } from '@audit/http';
import { type EventInput, type Issue, validateEvent } from '@audit/schema';
import type { BodyItem } from './body.ts';

/** A 400 lists at most this many invalid items; the rest are counted, so a bad bulk stays small. */
export const MAX_REPORTED_ITEMS = 100;

export interface ItemIssues {
  index: number;
  line?: number;
  issues: Issue[];
}

/**
 * Validates every item before anything is written: either all events are valid, or a 400
 * `validation_failed` lists each invalid index (up to MAX_REPORTED_ITEMS) with its issues.
 */
export function validateItems(items: BodyItem[]): EventInput[] {
  const events: EventInput[] = [];
  const invalid: ItemIssues[] = [];
  let invalidCount = 0;
  items.forEach((item, index) => {
    const r = validateEvent(item.value);
    if (r.ok) {
      events.push(r.event);
      return;
    }
    invalidCount++;
    if (invalid.length < MAX_REPORTED_ITEMS) {
      invalid.push({ index, ...(item.line === undefined ? {} : { line: item.line }), issues: r.issues });
    }
  });
  if (invalidCount === 0) return events;
  const message =
    items.length === 1
      ? `invalid event: ${summarize(invalid[0]!.issues)}`
      : `${invalidCount} of ${items.length} events are invalid; nothing was accepted`;
  throw new ApiError(400, 'validation_failed', message, invalid);
}

function summarize(issues: Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/**
 * A token writes for one tenant only: an event that names another tenant is refused (403)
 * instead of being silently re-labelled.
 */
export function checkTenant(events: EventInput[], tenant: string): void {
  const foreign = events.findIndex((e) => e.tenant_id !== undefined && e.tenant_id !== tenant);
  if (foreign >= 0) {
    throw new ApiError(
      403,
      'tenant_mismatch',
      `event ${foreign} has tenant_id "${events[foreign]!.tenant_id}" but the token is for tenant "${tenant}"`,
    );
  }
}
