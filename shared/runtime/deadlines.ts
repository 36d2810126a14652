import { TransientError } from '../errors.js';

/**
 * The deadline of every handler invocation (`withDeadline` in cloud-event.ts calls it), built for handlers that run
 * by the thousand at once in one process (the local loop's subscriptions): no timer, AbortController and
 * Promise.race per invocation — those cost ~3 µs per event, a tenth of what ingesting a one-row event costs. Running
 * invocations of one duration are kept in start order (so in deadline order) under one timer; the signal is created
 * only when the handler asks for it.
 */

interface Running {
  at: number;
  expire(): void;
}

class Deadlines {
  private readonly running = new Set<Running>();
  private timer: NodeJS.Timeout | undefined;

  add(r: Running, ms: number): void {
    this.running.add(r);
    this.timer ??= setTimeout(() => this.expire(), ms);
  }

  delete(r: Running): void {
    this.running.delete(r);
    if (this.running.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const r of this.running) {
      if (r.at > now) {
        this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(r.at - now)));
        return;
      }
      this.running.delete(r);
      r.expire();
    }
  }
}

const byDuration = new Map<number, Deadlines>();

/** One running invocation (a class rather than closures: this runs per event). */
class Invocation implements Running {
  readonly at: number;
  private ac: AbortController | undefined;
  private expired: TransientError | undefined;
  reject!: (err: unknown) => void;
  resolve!: () => void;

  constructor(private readonly consumer: string, private readonly ms: number) {
    this.at = performance.now() + ms;
  }

  expire(): void {
    this.expired = new TransientError(`${this.consumer}: stopped ${Math.round(this.ms / 1000)} s into the invocation, before the function's deadline`, {
      hint: 'the event is redelivered; if this repeats, raise the function timeout or make the step faster',
    });
    this.ac?.abort(this.expired);
    this.reject(this.expired);
  }

  signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.expired) this.ac.abort(this.expired);
    }
    return this.ac.signal;
  }
}

/**
 * Run `work` and reject with a TransientError `ms` after the start when it has not settled by then, aborting the
 * signal it was given (`signal()` creates it on first use; it is already aborted when first asked for after the
 * deadline). The error is `withDeadline`'s.
 */
export function runWithDeadline(consumer: string, ms: number, work: (signal: () => AbortSignal) => Promise<void>): Promise<void> {
  let d = byDuration.get(ms);
  if (!d) byDuration.set(ms, (d = new Deadlines()));
  const inv = new Invocation(consumer, ms);
  const settled = new Promise<void>((resolve, reject) => {
    inv.resolve = resolve;
    inv.reject = reject;
  });
  d.add(inv, ms);
  let running: Promise<void>;
  try {
    running = work(() => inv.signal());
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(
    () => { d.delete(inv); inv.resolve(); },
    (err: unknown) => { d.delete(inv); inv.reject(err); },
  );
  return settled;
}
