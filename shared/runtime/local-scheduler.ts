import { ConfigError } from '../errors.js';
import { catalog, type EventName } from '../events/catalog.js';
import type { EventBus } from '../ports/event-bus.js';
import type { SchedulerJobInfra } from '../topology/generate.js';
import { messageFunctionRegistry, type MessageFunctionSpec } from '../topology/message-functions.js';
import { envelopeFromDataOnlyMessage } from '../topology/scheduler-message.js';
import { parseCron, zonedParts, type Cron } from './cron.js';
import { log } from './log.js';
import type { Runtime } from './runtime.js';

/** A raw message (not an envelope) delivered to a message function's handler in this process. */
export type RawMessageHandler = (body: unknown, rt: Runtime, ctx: { messageId: string }) => Promise<void>;
/** In-process consumer of a raw topic outside the catalog, by topic. */
export type RawTarget = (body: unknown, ctx: { messageId: string }) => Promise<void>;

/**
 * The local stand-in for the push subscriptions of message functions: each raw topic of the registry whose function
 * has a handler gets that handler, called in this process with this runtime.
 */
export function localRawTargets(rt: Runtime, handlers: Record<string, RawMessageHandler>, registry: MessageFunctionSpec[] = messageFunctionRegistry): Record<string, RawTarget> {
  const out: Record<string, RawTarget> = {};
  for (const m of registry) {
    const handler = handlers[m.name];
    if (handler) out[m.topic] = (body, ctx) => handler(body, rt, ctx);
  }
  return out;
}

/**
 * The embedded stand-in for Cloud Scheduler: the same jobs `ctloop infra gen` hands to Terraform (same cron, time
 * zone, message data and attributes), fired once a minute from a timer and turned into envelopes exactly as the
 * functions do for Cloud Scheduler's data-only messages. The event id is `<job>@<minute>`, so a tick that fires
 * twice (a restart within the minute) publishes the same event, which consumers deduplicate.
 *
 * A job with a raw message to a topic outside the catalog (`event` '': the training reconciler's
 * `{"reconcile": true}` to the Vertex AI job-state topic) is handed to that topic's in-process target, the handler
 * its function runs on GCP. A job whose raw topic has no target is refused here, rather than never running.
 */
export class LocalScheduler {
  private readonly jobs: { name: string; job: SchedulerJobInfra; cron: Cron }[];
  private timer: NodeJS.Timeout | undefined;

  constructor(jobs: Record<string, SchedulerJobInfra>, private readonly bus: EventBus, private readonly rawTargets: Record<string, RawTarget> = {}) {
    this.jobs = Object.entries(jobs).map(([name, job]) => ({ name, job, cron: parseCron(job.schedule) }));
    for (const { name, job } of this.jobs) {
      if (job.event === '' && !rawTargets[job.topic]) {
        throw new ConfigError(`scheduler job ${name} sends a raw message to ${job.topic}, which nothing in this process consumes`, {
          hint: `give LocalScheduler a target for ${job.topic} (localRawTargets with functions/message-handlers.ts), or disable the job in infra/schedules.json`,
        });
      }
    }
  }

  /**
   * Run every job due at this minute; returns the ids of the jobs that ran. One failing job is logged and does not
   * keep the others of the same minute from running (it runs again at its next minute).
   */
  async tick(at: Date): Promise<string[]> {
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    const ids: string[] = [];
    for (const { name, job, cron } of this.jobs) {
      if (!cron.matches(zonedParts(minute, job.time_zone))) continue;
      try {
        ids.push(await this.fire(name, job, minute));
      } catch (err) {
        log('error', `scheduler: ${name} failed`, { job: name, error: err instanceof Error ? err.message : String(err) });
      }
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

  /** Run one job now, whatever its schedule (`ctloop run --fire <job>`); returns the event (or message) id. */
  async fire(name: string, job: SchedulerJobInfra, at: Date): Promise<string> {
    const messageId = `${name}@${at.toISOString().slice(0, 16)}`;
    if (job.event === '') {
      const target = this.rawTargets[job.topic];
      if (!target) throw new ConfigError(`scheduler job ${name}: nothing in this process consumes ${job.topic}`, { hint: 'see LocalScheduler' });
      await target(JSON.parse(job.data_json) as unknown, { messageId });
      log('info', `scheduler: ${name} ran`, { job: name, messageId, topic: job.topic });
      return messageId;
    }
    const event = envelopeFromDataOnlyMessage({ body: JSON.parse(job.data_json), attributes: job.attributes, messageId, publishTime: at.toISOString() });
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
