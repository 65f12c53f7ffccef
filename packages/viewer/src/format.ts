import type { AuditEvent } from './api.ts';

/** `2026-12-03 15:42:21.123Z` style: sortable, unambiguous, no locale surprises in an audit view. */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ');
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Dotted paths of an object's leaves, as the API names them (`details.<path>`). */
export function detailPaths(details: Record<string, unknown>, prefix = 'details.', out = new Set<string>()) {
  for (const [k, v] of Object.entries(details)) {
    const path = `${prefix}${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      detailPaths(v as Record<string, unknown>, `${path}.`, out);
    } else out.add(path);
  }
  return out;
}

/** The one-line summary of an event in the list. */
export function summary(e: AuditEvent): string {
  const what = [e.action, e.resource_type, e.resource_id].filter(Boolean).join(' ');
  return what || JSON.stringify(e.event_details).slice(0, 120);
}
