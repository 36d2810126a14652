import { catalog, parseEvent, type EventName } from '../events/catalog.js';
import type { Envelope } from '../events/envelope.js';
import type { EventBus, Subscription } from '../ports/event-bus.js';
import { TransientError } from '../errors.js';

export interface Seen {
  name: EventName;
  event: Envelope;
  /** Wall-clock time the demo received it. */
  at: number;
}

/**
 * The demo's view of the loop: one extra subscription per topic it narrates (the functions keep their own), so it
 * sees every event the functions publish, in arrival order, and can wait for one.
 */
export class EventWatch {
  readonly seen: Seen[] = [];
  private waiters: { match: (s: Seen) => boolean; done: (s: Seen) => void }[] = [];
  private subs: Subscription[] = [];

  static async start(bus: EventBus, names: EventName[]): Promise<EventWatch> {
    const w = new EventWatch();
    for (const name of names) {
      w.subs.push(await bus.subscribe({ name: `ctloop-demo-watch-${catalog[name].topic}`, topic: catalog[name].topic }, async (raw) => {
        const { name: got, event } = parseEvent(raw);
        w.add({ name: got, event, at: Date.now() });
      }));
    }
    return w;
  }

  private add(s: Seen): void {
    this.seen.push(s);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(s)) return true;
      w.done(s);
      return false;
    });
  }

  of<N extends EventName>(name: N): Seen[] {
    return this.seen.filter((s) => s.name === name);
  }

  /** The first event (already seen or to come) matching; a TransientError after `ms`. */
  waitFor(match: (s: Seen) => boolean, ms: number, what: string): Promise<Seen> {
    const hit = this.seen.find(match);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.done !== done);
        reject(new TransientError(`the demo waited ${Math.round(ms / 1000)} s for ${what}`, { hint: 'see the functions\' log lines above, and `npx ctloop runs list` / `npx ctloop dead-letters list`' }));
      }, ms);
      const done = (s: Seen) => { clearTimeout(timer); resolve(s); };
      this.waiters.push({ match, done });
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.close()));
  }
}
