/** What the dispatcher needs of a received message (a `@google-cloud/pubsub` Message fits). */
export interface Settleable {
  id: string;
  ack(): void;
  nack(): void;
}

/** Settles a message and every redelivered copy that arrived while it was queued or running. */
export interface Settle {
  ack(): void;
  nack(): void;
}

interface Entry<M extends Settleable> {
  first: M;
  copies: M[];
  outcome?: 'ack' | 'nack';
}

/**
 * Runs received messages with a hard bound on concurrency, in the adapter itself: the client's flow control is per
 * streaming-pull stream and the Pub/Sub emulator ignores it (googleapis/nodejs-pubsub#1996), and a lease that
 * expires while the client still holds a message makes Pub/Sub redeliver it while the first copy may still be
 * dispatched (googleapis/nodejs-pubsub#1213). So:
 * - at most `maxConcurrent` handlers run at once; later messages wait here, in arrival order (their leases are
 *   still extended by the client);
 * - a copy of a message (same message id) that arrives while that message is queued or running here is not run
 *   again: it is settled with the outcome of the run (ack or nack), so one message never runs twice at once in one
 *   process;
 * - `close()` stops starting messages, nacks the queued ones (they were never started: Pub/Sub redelivers them) and
 *   resolves when the running ones have finished, or reports how many are still running when `timeoutMs` elapses.
 */
export class MessageDispatcher<M extends Settleable> {
  private readonly entries = new Map<string, Entry<M>>();
  private readonly queue: Entry<M>[] = [];
  private running = 0;
  private closed = false;
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    private readonly maxConcurrent: number,
    private readonly run: (message: M, settle: Settle) => Promise<void>,
  ) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
  }

  /** Handlers running now. */
  get active(): number {
    return this.running;
  }

  push(message: M): void {
    const known = this.entries.get(message.id);
    if (known) {
      if (known.outcome) settleOne(message, known.outcome);
      else known.copies.push(message);
      return;
    }
    if (this.closed) return message.nack();
    const entry: Entry<M> = { first: message, copies: [] };
    this.entries.set(message.id, entry);
    this.queue.push(entry);
    this.pump();
  }

  /** Stop starting messages, nack the queued ones, wait for running ones. Resolves false on timeout. */
  async close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) {
      this.settle(entry, 'nack');
      this.entries.delete(entry.first.id);
    }
    if (this.running === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    const idle = new Promise<boolean>((r) => {
      waiter = () => r(true);
      this.idleWaiters.add(waiter);
    });
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
      if (waiter) this.idleWaiters.delete(waiter);
    }
  }

  private pump(): void {
    while (!this.closed && this.running < this.maxConcurrent && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      this.running++;
      const settle: Settle = { ack: () => this.settle(entry, 'ack'), nack: () => this.settle(entry, 'nack') };
      void this.run(entry.first, settle)
        .catch(() => settle.nack()) // run() settles on its own; a throw here is a bug: let Pub/Sub redeliver
        .finally(() => {
          this.entries.delete(entry.first.id);
          if (!entry.outcome) this.settle(entry, 'nack');
          this.running--;
          if (this.running === 0) for (const w of [...this.idleWaiters]) w();
          this.pump();
        });
    }
  }

  private settle(entry: Entry<M>, outcome: 'ack' | 'nack'): void {
    if (entry.outcome) return;
    entry.outcome = outcome;
    settleOne(entry.first, outcome);
    for (const copy of entry.copies.splice(0)) settleOne(copy, outcome);
  }
}

function settleOne(m: Settleable, outcome: 'ack' | 'nack'): void {
  if (outcome === 'ack') m.ack();
  else m.nack();
}
