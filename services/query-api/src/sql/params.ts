/**
 * Collects query parameters and hands out their typed placeholders (`{p3:String}`). The name
 * is generated here and the type is a constant of the caller, so nothing from a request is
 * ever part of the SQL text: values travel in `query_params`.
 */
export class Params {
  readonly values: Record<string, unknown> = {};
  private next = 0;

  add(type: string, value: unknown): string {
    const name = `p${this.next++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}
