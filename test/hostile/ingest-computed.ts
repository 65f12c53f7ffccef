import { LIMITS } from '@audit/schema';

/** A hostile body that needs computing (sizes, depths, byte patterns). `self`/`victim` are tenant ids. */
export interface ComputedCase {
  category: string;
  name: string;
  status: number;
  code: string;
  contentType?: string;
  /** Field path a validation error must name. */
  path?: string;
  body(ctx: BodyContext): string;
}

export interface BodyContext {
  self: string;
  victim: string;
  event(opts?: { members?: string; details?: string }): string;
}

const deepObject = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const str = (n: number, ch = 'x') => JSON.stringify(ch.repeat(n));
const MB = 1024 * 1024;

export const computedIngestCases: ComputedCase[] = [
  // Nesting: the parser must refuse before recursing (a 10,000-deep JSON.parse/zod walk can blow the stack).
  {
    category: 'deep_nesting',
    name: '10,000-deep event_details',
    status: 400,
    code: 'invalid_json',
    body: (c) => c.event({ details: deepObject(10_000) }),
  },
  {
    category: 'deep_nesting',
    name: '10,000-deep array body',
    status: 400,
    code: 'invalid_json',
    body: () => deepArray(10_000),
  },
  {
    category: 'deep_nesting',
    name: '100,000-deep array body',
    status: 400,
    code: 'invalid_json',
    body: () => deepArray(100_000),
  },
  {
    category: 'deep_nesting',
    name: '10,000 unclosed brackets',
    status: 400,
    code: 'invalid_json',
    body: () => '['.repeat(10_000),
  },
  {
    category: 'deep_nesting',
    name: '10,000-deep object as an unknown member',
    status: 400,
    code: 'invalid_json',
    body: (c) => c.event({ members: `"x":${deepObject(10_000)}` }),
  },
  {
    category: 'deep_nesting',
    name: '10,000-deep NDJSON line',
    contentType: 'application/x-ndjson',
    status: 400,
    code: 'invalid_json',
    body: (c) => `${c.event()}\n${c.event({ details: deepObject(10_000) })}\n`,
  },
  {
    category: 'deep_nesting',
    name: '10,000-deep mixed arrays/objects in details',
    status: 400,
    code: 'invalid_json',
    body: (c) => c.event({ details: `{"a":${'[{"b":'.repeat(5_000)}1${'}]'.repeat(5_000)}}` }),
  },
  {
    category: 'deep_nesting',
    name: 'one level past the parser limit (65)',
    status: 400,
    code: 'invalid_json',
    body: () => deepArray(LIMITS.MAX_JSON_DEPTH + 1),
  },
  {
    category: 'deep_nesting',
    name: `event_details depth ${LIMITS.MAX_DETAILS_DEPTH + 1}`,
    status: 400,
    code: 'validation_failed',
    path: 'event_details',
    body: (c) => c.event({ details: deepObject(LIMITS.MAX_DETAILS_DEPTH + 1) }),
  },

  // Sizes: whole bodies (413) and single fields (400 naming the field).
  {
    category: 'oversized',
    name: '6 MiB JSON body',
    status: 413,
    code: 'payload_too_large',
    body: () => `{"pad":${str(6 * MB)}}`,
  },
  {
    category: 'oversized',
    name: '17 MiB NDJSON body',
    contentType: 'application/x-ndjson',
    status: 413,
    code: 'payload_too_large',
    body: () => `{"pad":${str(17 * MB)}}\n`,
  },
  {
    category: 'oversized',
    name: '1,001 events in one JSON array',
    status: 413,
    code: 'too_many_events',
    body: (c) => `[${Array.from({ length: 1001 }, () => c.event()).join(',')}]`,
  },
  {
    category: 'oversized',
    name: '10,001 NDJSON lines',
    contentType: 'application/x-ndjson',
    status: 413,
    code: 'too_many_events',
    body: (c) => Array.from({ length: 10_001 }, () => c.event()).join('\n'),
  },
  {
    category: 'oversized',
    name: 'one event over 64 KiB',
    status: 400,
    code: 'validation_failed',
    body: (c) =>
      c.event({ details: `{${Array.from({ length: 10 }, (_, i) => `"k${i}":${str(8000)}`).join(',')}}` }),
  },
  {
    category: 'oversized',
    name: 'user_id of 257 characters',
    status: 400,
    code: 'validation_failed',
    path: 'user_id',
    body: (c) => c.event().replace('"user_id":"hostile-user"', `"user_id":${str(257)}`),
  },
  {
    category: 'oversized',
    name: 'event_type of 129 characters',
    status: 400,
    code: 'validation_failed',
    path: 'event_type',
    body: (c) => c.event().replace('"event_type":"hostile.probe"', `"event_type":${str(129, 'a')}`),
  },
  {
    category: 'oversized',
    name: 'user_agent of 513 characters',
    status: 400,
    code: 'validation_failed',
    path: 'user_agent',
    body: (c) => c.event({ members: `"user_agent":${str(513)}` }),
  },
  {
    category: 'oversized',
    name: 'source of 257 characters',
    status: 400,
    code: 'validation_failed',
    path: 'source',
    body: (c) => c.event({ members: `"source":${str(257)}` }),
  },
  {
    category: 'oversized',
    name: 'resource_id of 10 KiB',
    status: 400,
    code: 'validation_failed',
    path: 'resource_id',
    body: (c) => c.event({ members: `"resource_id":${str(10 * 1024)}` }),
  },
  {
    category: 'oversized',
    name: 'action of 257 characters',
    status: 400,
    code: 'validation_failed',
    path: 'action',
    body: (c) => c.event({ members: `"action":${str(257)}` }),
  },
  {
    category: 'oversized',
    name: 'details string of 8,193 characters',
    status: 400,
    code: 'validation_failed',
    path: 'event_details.s',
    body: (c) => c.event({ details: `{"s":${str(LIMITS.MAX_STRING_LENGTH + 1)}}` }),
  },
  {
    category: 'oversized',
    name: 'details key of 129 characters',
    status: 400,
    code: 'validation_failed',
    body: (c) => c.event({ details: `{${str(LIMITS.MAX_KEY_LENGTH + 1, 'k')}:1}` }),
  },
  {
    category: 'oversized',
    name: '513 details keys',
    status: 400,
    code: 'validation_failed',
    path: 'event_details',
    body: (c) => c.event({ details: `{${Array.from({ length: 513 }, (_, i) => `"k${i}":1`).join(',')}}` }),
  },
  {
    category: 'oversized',
    name: 'details array of 600 elements',
    status: 400,
    code: 'validation_failed',
    path: 'event_details',
    body: (c) => c.event({ details: `{"a":[${Array.from({ length: 600 }, () => '1').join(',')}]}` }),
  },
  {
    category: 'oversized',
    name: 'a number of 10,000 digits',
    status: 400,
    code: 'validation_failed',
    path: 'event_details.n',
    body: (c) => c.event({ details: `{"n":${'9'.repeat(10_000)}}` }),
  },

  // A producer token writes for its own tenant only, whatever the body says.
  {
    category: 'cross_tenant_write',
    name: 'tenant_id of another tenant',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => c.event({ members: `"tenant_id":"${c.victim}"` }),
  },
  {
    category: 'cross_tenant_write',
    name: 'batch: last of three names another tenant',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) =>
      `[${c.event()},${c.event({ members: `"tenant_id":"${c.self}"` })},${c.event({ members: `"tenant_id":"${c.victim}"` })}]`,
  },
  {
    category: 'cross_tenant_write',
    name: 'NDJSON: line 3 names another tenant',
    contentType: 'application/x-ndjson',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => `${c.event()}\n${c.event()}\n${c.event({ members: `"tenant_id":"${c.victim}"` })}\n`,
  },
  {
    category: 'cross_tenant_write',
    name: 'tenant_id differing only in case',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => c.event({ members: `"tenant_id":"${c.self.toUpperCase()}"` }),
  },
  {
    category: 'cross_tenant_write',
    name: 'tenant_id with a trailing space',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => c.event({ members: `"tenant_id":"${c.self} "` }),
  },
  {
    category: 'cross_tenant_write',
    name: 'tenant_id wildcard',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => c.event({ members: '"tenant_id":"*"' }),
  },
  {
    category: 'cross_tenant_write',
    name: 'duplicate tenant_id key, foreign one last',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => c.event({ members: `"tenant_id":"${c.self}","tenant_id":"${c.victim}"` }),
  },
  {
    category: 'cross_tenant_write',
    name: 'tenant_id with SQL',
    status: 403,
    code: 'tenant_mismatch',
    body: (c) => c.event({ members: `"tenant_id":"${c.self}' OR '1'='1"` }),
  },
];
