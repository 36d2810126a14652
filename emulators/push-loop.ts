/**
 * The push loop over the emulators, shared by `ctloop up --emulators` and `ctloop demo --emulators`: every function
 * of the registry (and every message function) served by functions-framework on its own port in this process, the
 * push subscriptions, dead-letter topics and retry policies wired from the registry (wireEmulatorTopology, as
 * Terraform does on GCP), dead letters filed where `ctloop dead-letters` reads them, and a bus whose publishes are
 * tracked until every push they cause has settled (PushLedger).
 */
import { PubsubEventBus } from '../shared/adapters/event-bus/pubsub/pubsub-bus.js';
import type { EventName } from '../shared/events/catalog.js';
import type { Config } from '../shared/config/config.js';
import { ConfigError } from '../shared/errors.js';
import type { Subscription } from '../shared/ports/event-bus.js';
import { cloudEventFunction, type EventHandler, type IncomingCloudEvent } from '../shared/runtime/cloud-event.js';
import { fileDeadLetters } from '../shared/runtime/dead-letter-filer.js';
import { FunctionHost } from '../shared/runtime/function-host.js';
import { PushBus } from '../shared/runtime/push-bus.js';
import { PushLedger, type PushCounts } from '../shared/runtime/push-ledger.js';
import type { Runtime } from '../shared/runtime/runtime.js';
import { functionRegistry } from '../shared/topology/functions.js';
import { functionDeployedName } from '../shared/topology/generate.js';
import { messageFunctionRegistry } from '../shared/topology/message-functions.js';
import { ensurePushSubscription, pushEndpoint, wireEmulatorTopology } from './wire.js';

export interface PushTransport {
  bus: PushBus;
  ledger: PushLedger;
  host: FunctionHost;
  pubsub: PubsubEventBus;
  project: string;
}

/** The bus of a push loop, built before the runtime (which takes it as its bus). Needs PUBSUB_EMULATOR_HOST. */
export function createPushTransport(config: Config): PushTransport {
  if (config.eventBus.kind !== 'pubsub' || !config.eventBus.emulatorHost) {
    throw new ConfigError('the push loop needs the Pub/Sub emulator (PUBSUB_EMULATOR_HOST, CTLOOP_MODE=emulators)', { hint: 'start it with ctloop up --emulators' });
  }
  const project = config.project;
  const pubsub = new PubsubEventBus({ project, emulatorHost: config.eventBus.emulatorHost, retry: config.retry });
  const ledger = new PushLedger(config.retry.maxDeliveryAttempts);
  const host = new FunctionHost(ledger);
  const bus = new PushBus(pubsub, ledger, async ({ name, topic }, handle): Promise<Subscription> => {
    const base = await host.route(name, handle);
    await ensurePushSubscription(pubsub.client, { project, topic, subscription: name, endpoint: pushEndpoint(base, project, topic), ackDeadlineSeconds: 60, retry: config.retry });
    ledger.addSubscription(topic, name);
    return {
      // An observer's subscription goes with it: nothing keeps pushing to a port that is closed.
      close: async () => {
        host.unroute(name);
        await pubsub.client.subscription(name).delete().catch(() => undefined);
      },
    };
  });
  return { bus, ledger, host, pubsub, project };
}

/** One served function: where it listens and the push subscription that feeds it. */
export interface ServedFunction {
  function: string;
  entryPoint: string;
  port: number;
  topic: string;
  subscription: string;
  pushEndpoint: string;
  deadLetterTopic: string;
}

export type MessageEntryPoint = (getRuntime: () => Promise<Runtime>) => (ce: IncomingCloudEvent) => Promise<void>;

export interface PushFunctions {
  functions: ServedFunction[];
  /** Push requests per function so far (from the ledger). */
  counts(): Record<string, PushCounts>;
  stop(): Promise<void>;
}

/**
 * Serve every function with a handler under functions-framework (ports from `firstPort` on, one each; 0 = free
 * ports), on this runtime (one DuckDB writer: see FunctionHost), wire their push subscriptions, and file dead letters.
 */
export async function startPushFunctions(rt: Runtime, t: PushTransport, opts: {
  handlers: Record<string, EventHandler<EventName>>;
  messageEntryPoints: Record<string, MessageEntryPoint>;
  firstPort: number;
}): Promise<PushFunctions> {
  const getRuntime = () => Promise.resolve(rt);
  const urls = new Map<string, { url: string; port: number; entryPoint: string }>();
  let next = opts.firstPort;
  const portFor = () => (opts.firstPort === 0 ? 0 : next++);
  try {
    for (const fn of functionRegistry) {
      const handler = opts.handlers[fn.name];
      if (!handler) continue;
      const wrapped = cloudEventFunction(fn.name, fn.trigger, handler, getRuntime, { timeoutSeconds: fn.timeoutSeconds });
      const h = await t.host.serveCloudEvent(fn.name, fn.entryPoint, `${functionDeployedName(fn.name)}-push`, wrapped, portFor());
      urls.set(fn.name, { url: h.url, port: h.port, entryPoint: fn.entryPoint });
    }
    for (const m of messageFunctionRegistry) {
      const make = opts.messageEntryPoints[m.name];
      if (!make) continue;
      const h = await t.host.serveCloudEvent(m.name, m.entryPoint, `${functionDeployedName(m.name)}-push`, make(getRuntime), portFor());
      urls.set(m.name, { url: h.url, port: h.port, entryPoint: m.entryPoint });
    }
    const emulatorHost = (rt.config.eventBus as { emulatorHost: string }).emulatorHost;
    const { wired } = await wireEmulatorTopology({ emulatorHost, project: t.project, retry: rt.config.retry, endpointFor: (f) => urls.get(f.name)?.url });
    for (const w of wired) t.ledger.addSubscription(w.topic, w.subscription);
    const filer = await fileDeadLetters({ bus: t.bus, objectStore: rt.objectStore, bucket: rt.config.artifactBucket }, wired.map((w) => w.topic));
    let stopped: Promise<void> | undefined;
    const functions = wired.map((w) => ({ ...w, port: urls.get(w.function)!.port, entryPoint: urls.get(w.function)!.entryPoint }));
    return {
      functions,
      counts: () => {
        const c = t.ledger.snapshot().counts;
        return Object.fromEntries(functions.map((f) => [f.function, c[f.subscription] ?? { requests: 0, acked: 0, failed: 0, deadLettered: 0 }]));
      },
      stop() {
        stopped ??= (async () => {
          await Promise.allSettled(filer.map((s) => s.close()));
          await t.host.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await t.host.close();
    throw err;
  }
}

/** Subscriptions of the project that PULL from a topic other than a dead-letter topic (the push loop creates none). */
export async function pullSubscriptions(t: PushTransport): Promise<string[]> {
  const [subs] = await t.pubsub.client.getSubscriptions();
  const out: string[] = [];
  for (const s of subs) {
    const [meta] = await s.getMetadata();
    const topic = String(meta.topic ?? '').split('/').pop() ?? '';
    if (!meta.pushConfig?.pushEndpoint && !topic.endsWith('-dead-letter')) out.push(s.name.split('/').pop()!);
  }
  return out;
}

