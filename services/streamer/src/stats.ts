/** One stream's counters in this instance, reported to `stream_status` and /metrics. */
export class StreamStats {
  delivered = 0;
  failed = 0;
  requests = 0;
  lag = 0;
  lastSuccessMs: number | undefined;
  lastError = '';
  lastErrorMs: number | undefined;
  /** First failure since the last success. */
  failingSinceMs: number | undefined;

  success(nowMs: number, events: number): void {
    this.requests++;
    this.delivered += events;
    this.lastSuccessMs = nowMs;
    this.failingSinceMs = undefined;
  }

  failure(nowMs: number, error: string): void {
    this.requests++;
    this.failed++;
    this.lastError = error.slice(0, 1000);
    this.lastErrorMs = nowMs;
    this.failingSinceMs ??= nowMs;
  }
}
