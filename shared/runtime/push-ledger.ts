import { TransientError } from '../errors.js';

/** Per push subscription: what its endpoint received. */
export interface PushCounts {
  /** Requests received (every attempt). */
  requests: number;
  /** Responses that were 2xx (acknowledged). */
  acked: number;
  /** Responses that were not 2xx (Pub/Sub redelivers, or dead-letters after max attempts). */
  failed: number;
  /** Messages given up after maxDeliveryAttempts non-2xx responses (Pub/Sub forwards them to the dead-letter topic). */
  deadLettered: number;
}

/**
 * The drain of a push loop, exact rather than guessed: every message this process publishes is expected once at
 * each push subscription of its topic that this process serves; the ledger is settled when each expected
 * (subscription, message) pair has had a 2xx response or `maxDeliveryAttempts` failed ones, no request is in flight
 * and no publish is pending. A push that arrives before its publish call returns (the emulator can be that fast)
 * counts all the same. Pub/Sub redelivers a failed push by itself (about every 2 s on the emulator), so a pair with
 * a failed response stays outstanding until it comes back: no quiet period has to outlast the redelivery interval.
 */
export class PushLedger {
  private readonly subsByTopic = new Map<string, Set<string>>();
  private readonly attempts = new Map<string, number>();
  private readonly settled = new Set<string>();
  private readonly outstanding = new Set<string>();
  private readonly counts = new Map<string, PushCounts>();
  private inFlight = 0;
  private pendingPublishes = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly maxDeliveryAttempts: number) {}

  /** A push subscription served by this process: messages published to `topic` from now on are expected there. */
  addSubscription(topic: string, subscription: string): void {
    let s = this.subsByTopic.get(topic);
    if (!s) this.subsByTopic.set(topic, (s = new Set()));
    s.add(subscription);
    if (!this.counts.has(subscription)) this.counts.set(subscription, { requests: 0, acked: 0, failed: 0, deadLettered: 0 });
  }

  /** Wrap a publish: pending until it returns its message id, then expected at each subscription of the topic. */
  async publishing(topic: string, publish: () => Promise<string>): Promise<string> {
    this.pendingPublishes++;
    try {
      const id = await publish();
      for (const sub of this.subsByTopic.get(topic) ?? []) {
        const key = keyOf(sub, id);
        // Already pushed and answered before the publish call returned: matched now, nothing to wait for.
        if (!this.settled.delete(key)) this.outstanding.add(key);
      }
      return id;
    } finally {
      this.pendingPublishes--;
      this.wake();
    }
  }

  requestStarted(subscription: string): void {
    this.inFlight++;
    this.countsOf(subscription).requests++;
  }

  /** A push request ended: `messageId` null when its body could not be read (the request still ended). */
  requestEnded(subscription: string, messageId: string | null, status: number): void {
    this.inFlight--;
    const c = this.countsOf(subscription);
    if (messageId !== null) {
      const key = keyOf(subscription, messageId);
      const n = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, n);
      if (status >= 200 && status < 300) {
        c.acked++;
        this.settle(key);
      } else {
        c.failed++;
        if (n >= this.maxDeliveryAttempts && !this.settled.has(key)) {
          c.deadLettered++;
          this.settle(key);
        }
      }
    } else if (status < 200 || status >= 300) c.failed++;
    this.wake();
  }

  snapshot(): { inFlight: number; pendingPublishes: number; outstanding: string[]; counts: Record<string, PushCounts> } {
    return {
      inFlight: this.inFlight, pendingPublishes: this.pendingPublishes,
      outstanding: [...this.outstanding].map((k) => k.replace('\u0000', ' ← message ')),
      counts: Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }])),
    };
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.pendingPublishes === 0 && this.outstanding.size === 0;
  }

  /** Resolve once settled (see the class); a TransientError naming what is still outstanding after `timeoutMs`. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.idle) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const s = this.snapshot();
        throw new TransientError(`push deliveries did not settle within ${Math.round(timeoutMs / 1000)} s: ${s.inFlight} request(s) in flight, ${s.pendingPublishes} publish(es) pending, ${s.outstanding.length} delivery(ies) outstanding (${s.outstanding.slice(0, 3).join('; ')})`, {
          hint: 'a function keeps failing (see its log lines and `ctloop dead-letters list`), or an emulator stopped answering',
          details: { ...s, outstanding: s.outstanding.slice(0, 20) },
        });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 1000));
        function done() { clearTimeout(t); resolve(); }
        this.waiters.push(done);
      });
    }
  }

  /**
   * A pair is done. Only a pair nobody waits for yet is remembered (its publish may still be returning); those of
   * producers outside this process are never matched, so the oldest are forgotten beyond a bound (a long `ctloop up`).
   */
  private settle(key: string): void {
    this.attempts.delete(key);
    if (this.outstanding.delete(key)) return;
    this.settled.add(key);
    if (this.settled.size > MAX_UNMATCHED) this.settled.delete(this.settled.values().next().value!);
  }

  private countsOf(subscription: string): PushCounts {
    let c = this.counts.get(subscription);
    if (!c) this.counts.set(subscription, (c = { requests: 0, acked: 0, failed: 0, deadLettered: 0 }));
    return c;
  }

  private wake(): void {
    const w = this.waiters.splice(0);
    for (const f of w) f();
  }
}

const MAX_UNMATCHED = 100_000;

const keyOf = (subscription: string, messageId: string) => `${subscription}\u0000${messageId}`;
