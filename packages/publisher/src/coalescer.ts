/**
 * Group commit: the messages of concurrent requests share one send.
 *
 * At most one send runs at a time. Whatever arrives while it runs waits in a FIFO queue, and
 * when it completes the next send carries everything queued, up to `maxBatchMessages` and
 * `maxBatchBytes` (the broker refuses a record batch over `message.max.bytes`, 1 MiB by default,
 * per partition). A request larger than one batch is split into parts that go out in order.
 *
 * A submission resolves only when every one of its parts was acknowledged, and rejects as soon
 * as any part fails; a failed send fails every submission that had a part in it. Parts of a
 * failed or cancelled submission that are still queued are never sent.
 */
export interface CoalescerOptions<M> {
  /** Sends one batch (`bytes` = the sum of `sizeOf`); resolves when the whole batch is acknowledged. */
  send(batch: M[], bytes: number): Promise<void>;
  /** Bytes a message occupies in a batch (value, key, headers and record overhead). */
  sizeOf(message: M): number;
  maxBatchMessages: number;
  maxBatchBytes: number;
}

export interface Submission {
  /** Resolves when every message is acknowledged; rejects with the error of the first failed part. */
  done: Promise<void>;
  /**
   * Drops the parts not yet handed to `send` (the caller stopped waiting) and rejects `done` with
   * `reason` if it is still pending. Parts already sending carry on.
   */
  cancel(reason: unknown): void;
}

export interface Coalescer<M> {
  submit(messages: M[]): Submission;
  /** Messages and bytes queued and not yet handed to `send`. */
  readonly queued: { messages: number; bytes: number };
  /** True while a send runs. */
  readonly sending: boolean;
}

interface Request {
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
  parts: Part[];
}

interface Part {
  request: Request;
  messages: unknown[];
  readonly bytes: number;
  /** Queued, handed to send, or dropped before sending. */
  state: 'queued' | 'sending' | 'dropped';
}

export function createCoalescer<M>(opts: CoalescerOptions<M>): Coalescer<M> {
  // Consumed slots are cleared (a Part holds its messages until sent), then compacted.
  const queue: (Part | undefined)[] = [];
  let head = 0;
  let queuedMessages = 0;
  let queuedBytes = 0;
  let sending = false;

  function drop(part: Part) {
    if (part.state !== 'queued') return;
    part.state = 'dropped';
    queuedMessages -= part.messages.length;
    queuedBytes -= part.bytes;
    part.messages = [];
  }

  function fail(request: Request, err: unknown) {
    if (request.settled) return;
    request.settled = true;
    for (const p of request.parts) drop(p);
    request.reject(err);
  }

  function partDone(part: Part) {
    const r = part.request;
    if (r.settled) return;
    if (--r.remaining === 0) {
      r.settled = true;
      r.resolve();
    }
  }

  function nextBatch(): Part[] {
    const batch: Part[] = [];
    let messages = 0;
    let bytes = 0;
    while (head < queue.length) {
      const part = queue[head]!;
      if (part.state === 'dropped') {
        queue[head++] = undefined;
        continue;
      }
      const fits =
        messages + part.messages.length <= opts.maxBatchMessages && bytes + part.bytes <= opts.maxBatchBytes;
      if (batch.length > 0 && !fits) break;
      queue[head++] = undefined;
      part.state = 'sending';
      queuedMessages -= part.messages.length;
      queuedBytes -= part.bytes;
      batch.push(part);
      messages += part.messages.length;
      bytes += part.bytes;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    return batch;
  }

  function pump() {
    if (sending) return;
    const batch = nextBatch();
    if (batch.length === 0) return;
    sending = true;
    const messages = batch.length === 1 ? batch[0]!.messages : batch.flatMap((p) => p.messages);
    const bytes = batch.reduce((n, p) => n + p.bytes, 0);
    let sent: Promise<void>;
    try {
      sent = opts.send(messages as M[], bytes);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent
      .then(
        () => {
          for (const p of batch) partDone(p);
        },
        (err: unknown) => {
          for (const p of batch) fail(p.request, err);
        },
      )
      .finally(() => {
        // A request that is still waiting for other parts must not keep these messages alive.
        for (const p of batch) p.messages = [];
        sending = false;
        pump();
      });
  }

  function split(messages: M[]): { messages: M[]; bytes: number }[] {
    const parts: { messages: M[]; bytes: number }[] = [];
    let current: M[] = [];
    let bytes = 0;
    for (const m of messages) {
      const size = opts.sizeOf(m);
      if (
        current.length > 0 &&
        (current.length >= opts.maxBatchMessages || bytes + size > opts.maxBatchBytes)
      ) {
        parts.push({ messages: current, bytes });
        current = [];
        bytes = 0;
      }
      current.push(m);
      bytes += size;
    }
    if (current.length > 0) parts.push({ messages: current, bytes });
    return parts;
  }

  return {
    submit(messages) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const request: Request = { remaining: 0, settled: false, resolve, reject, parts: [] };
      for (const s of split(messages)) {
        const part: Part = { request, messages: s.messages, bytes: s.bytes, state: 'queued' };
        request.parts.push(part);
        queue.push(part);
        queuedMessages += s.messages.length;
        queuedBytes += s.bytes;
      }
      request.remaining = request.parts.length;
      if (request.remaining === 0) {
        request.settled = true;
        resolve();
      }
      pump();
      return { done, cancel: (reason) => fail(request, reason) };
    },
    get queued() {
      return { messages: queuedMessages, bytes: queuedBytes };
    },
    get sending() {
      return sending;
    },
  };
}
