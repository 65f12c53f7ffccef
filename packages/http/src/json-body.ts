import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors.ts';

/**
 * The JSON body of a request, checked against `schema`: 415 unless the body is JSON, 400
 * `invalid_json` for bad syntax, 400 `invalid_request` whose details name each wrong field
 * (`path`, `message`). `optional`: an empty body parses as `{}`. Size limits are the route's
 * (`bodyLimit`), applied before this reads the body.
 */
export async function jsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
  optional = false,
): Promise<z.infer<T>> {
  const text = await c.req.text();
  if (optional && text.trim() === '') return schema.parse({});
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'body must be application/json');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ApiError(400, 'invalid_request', 'invalid body', details);
  }
  return parsed.data;
}
