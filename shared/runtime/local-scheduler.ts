import { catalog, type EventName } from '../events/catalog.js';
import type { EventBus } from '../ports/event-bus.js';
import type { SchedulerJobInfra } from '../topology/generate.js';
import { envelopeFromDataOnlyMessage } from '../topology/scheduler-message.js';
import { parseCron, zonedParts, type Cron } from './cron.js';
import { log } from './log.js';

/**
 * The embedded stand-in for Cloud Scheduler: the same jobs `ctloop infra gen` hands to Terraform (same cron, time
 * zone, message data and attributes), fired once a minute from a timer and turned into envelopes exactly as the
 * functions do for Cloud Scheduler's data-only messages. The event id is `<job>@<minute>`, so a tick that fires
 * twice (a restart within the minute) publishes the same event, which consumers deduplicate.
 */
export class LocalScheduler {
  private readonly jobs: { name: string; job: SchedulerJobInfra; cron: Cron }[];
  private timer: NodeJS.Timeout | undefined;

  constructor(jobs: Record<string, SchedulerJobInfra>, private readonly bus: EventBus) {
    this.jobs = Object.entries(jobs).map(([name, job]) => ({ name, job, cron: parseCron(job.schedule) }));
  }

  /** Publish every job due at this minute; returns the published event ids. */
  async tick(at: Date): Promise<string[]> {
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    const ids: string[] = [];
    for (const { name, job, cron } of this.jobs) {
      if (!cron.matches(zonedParts(minute, job.time_zone))) continue;
      ids.push(await this.fire(name, job, minute));
    }
    return ids;
  }

  /**
   * Simulated time: fire, minute by minute and in order, every job due in [from, to), as the timer would have had the
   * clock run through that span (the demo's replay drives it). Returns the published event ids.
   */
  async advance(from: Date, to: Date): Promise<string[]> {
    const ids: string[] = [];
    for (let t = Math.ceil(from.getTime() / 60_000) * 60_000; t < to.getTime(); t += 60_000) ids.push(...(await this.tick(new Date(t))));
    return ids;
  }

  /** Publish one job now, whatever its schedule (`ctloop run --fire <job>`). */
  async fire(name: string, job: SchedulerJobInfra, at: Date): Promise<string> {
    const event = envelopeFromDataOnlyMessage({
      body: JSON.parse(job.data_json), attributes: job.attributes, messageId: `${name}@${at.toISOString().slice(0, 16)}`, publishTime: at.toISOString(),
    });
    await this.bus.publish(catalog[job.event as EventName].topic, event);
    log('info', `scheduler: ${name} fired`, { job: name, eventId: event.id, type: event.type });
    return event.id;
  }

  start(now: () => Date = () => new Date()): void {
    const arm = () => {
      const t = now().getTime();
      this.timer = setTimeout(() => {
        void this.tick(now()).catch((err) => log('error', 'scheduler tick failed', { error: String(err) })).finally(arm);
      }, 60_000 - (t % 60_000) + 50);
      this.timer.unref?.();
    };
    arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get jobNames(): string[] {
    return this.jobs.map((j) => j.name);
  }

  job(name: string): SchedulerJobInfra | undefined {
    return this.jobs.find((j) => j.name === name)?.job;
  }
}
