import { ApiError } from '@audit/http';
import {
  type EventInput,
  futureProblem,
  type Issue,
  retentionProblem,
  textProblem,
  validateEvent,
} from '@audit/schema';
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

/**
 * An event without `source` gets the token subject, which only the token issuer vetted: one the
 * schema would refuse (NUL, a lone surrogate) would be accepted here and dead-lettered by the
 * sink, so it is refused now, naming the fix.
 */
export function checkSource(events: EventInput[], subject: string): void {
  const problem = textProblem(subject);
  if (problem === undefined || events.every((e) => e.source !== undefined)) return;
  throw new ApiError(
    400,
    'validation_failed',
    `the token subject cannot be stored as the events' source (it ${problem}): set source in each event`,
    events
      .flatMap((e, index) =>
        e.source === undefined
          ? [{ index, issues: [{ path: 'source', message: `token subject ${problem}` }] }]
          : [],
      )
      .slice(0, MAX_REPORTED_ITEMS),
  );
}

/**
 * Nothing is accepted that storage would drop on arrival: a timestamp older than the retention
 * (the TTL deletes it; 400 `expired`) or more than a day ahead of the clock (its TTL would wrap
 * past 2106 to 1970; 400 `timestamp_in_future`). Listed like validation failures; the code is
 * `expired` when any event is expired.
 */
export function checkTimeWindow(
  items: BodyItem[],
  events: EventInput[],
  nowMs: number,
  retentionDays: number,
): void {
  const refused: ItemIssues[] = [];
  let count = 0;
  let expired = false;
  events.forEach((event, index) => {
    const old = retentionProblem(event.timestamp, nowMs, retentionDays);
    const problem = old ?? futureProblem(event.timestamp, nowMs);
    if (problem === undefined) return;
    if (old !== undefined) expired = true;
    count++;
    if (refused.length < MAX_REPORTED_ITEMS) {
      const line = items[index]?.line;
      refused.push({
        index,
        ...(line === undefined ? {} : { line }),
        issues: [{ path: 'timestamp', message: problem }],
      });
    }
  });
  if (count === 0) return;
  const code = expired ? 'expired' : 'timestamp_in_future';
  const message =
    events.length === 1
      ? `timestamp ${refused[0]!.issues[0]!.message}: it would never be stored`
      : `${count} of ${events.length} events have a timestamp storage would not keep; nothing was accepted`;
  throw new ApiError(400, code, message, refused);
}
