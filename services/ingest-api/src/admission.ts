/**
 * A byte budget for requests in progress (body read, parsed, waiting for Kafka). A request that
 * does not fit waits, first come first served, before its body is read: the bytes stay in the
 * socket (TCP back-pressure) instead of this process' heap. Kafka only needs a batch or two
 * queued to stay busy, so a small budget costs no throughput and bounds memory under load.
 */
export interface ByteGate {
  /**
   * Resolves with a release function once `bytes` fit (a request alone always fits), or rejects
   * with `onTimeout()` after `timeoutMs` without room.
   */
  acquire(bytes: number, timeoutMs: number, onTimeout: () => Error): Promise<() => void>;
  /** Bytes held by admitted requests. */
  readonly held: number;
  /** Requests waiting for room. */
  readonly waiting: number;
}

interface Waiter {
  bytes: number;
  admit(): void;
}

export function createByteGate(budget: number): ByteGate {
  let held = 0;
  const waiters: Waiter[] = [];

  const fits = (bytes: number) => held === 0 || held + bytes <= budget;

  function admitWaiting() {
    while (waiters.length > 0 && fits(waiters[0]!.bytes)) waiters.shift()!.admit();
  }

  function releaser(bytes: number) {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held -= bytes;
      admitWaiting();
    };
  }

  return {
    acquire(bytes, timeoutMs, onTimeout) {
      // Waiters first: a stream of small requests must not starve a large one.
      if (waiters.length === 0 && fits(bytes)) {
        held += bytes;
        return Promise.resolve(releaser(bytes));
      }
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          bytes,
          admit() {
            clearTimeout(timer);
            held += bytes;
            resolve(releaser(bytes));
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(onTimeout());
          // It may have been the large request at the head that kept smaller ones waiting.
          admitWaiting();
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    get held() {
      return held;
    },
    get waiting() {
      return waiters.length;
    },
  };
}
