import type { z } from 'zod';
import { UNKNOWN_FIELD_MESSAGE } from './event-schema.ts';

/** One problem of an event: a dotted path ("event_details.customer.plan", "" for the whole event) and why. */
export type Issue = { path: string; message: string };

function joinPath(path: readonly PropertyKey[], last?: string): string {
  let s = '';
  for (const seg of path) s = s === '' ? String(seg) : `${s}.${String(seg)}`;
  if (last !== undefined) s = s === '' ? last : `${s}.${last}`;
  return s;
}

/** zod issues as Issues: one per unknown field, named, so each typo is reported on its own. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], out: Issue[] = []): Issue[] {
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) out.push({ path: joinPath(i.path, key), message: UNKNOWN_FIELD_MESSAGE });
    } else out.push({ path: joinPath(i.path), message: i.message });
  }
  return out;
}
