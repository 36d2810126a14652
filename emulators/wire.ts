/**
 * Wires the Pub/Sub emulator like Terraform wires GCP, from the function registry: for every function in
 * shared/topology/functions.ts and shared/topology/message-functions.ts (complete-training, fed by the raw Vertex AI
 * job-state topic), its trigger topic, the dead-letter topic (with a `-hold` subscription so dead
 * letters are kept), and a PUSH subscription `ctloop-<name>-push` (the name Terraform uses) delivering to a local
 * functions-framework server, with deadLetterPolicy and retryPolicy. The push path is
 * `/projects/<project>/topics/<topic>`: functions-framework derives the CloudEvent `source` from it.
 *
 *   node bin/run-ts.mjs emulators/wire.ts --endpoint ingest-features=http://127.0.0.1:8081 [--default-endpoint URL]
 *
 * Needs PUBSUB_EMULATOR_HOST (refuses to run without it: this never touches a real project).
 */
import { pathToFileURL } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { deadLetterTopic, catalog } from '../shared/events/catalog.js';
import { ConfigError } from '../shared/errors.js';
import { functionRegistry, type FunctionSpec } from '../shared/topology/functions.js';
import { messageFunctionRegistry, type MessageFunctionSpec } from '../shared/topology/message-functions.js';
import { functionDeployedName } from '../shared/topology/generate.js';
import type { RetryPolicy } from '../shared/ports/event-bus.js';
import { checkRetryPolicy, duration, ensureTopicWithDeadLetter, grpcCode, topicPath } from '../shared/adapters/event-bus/pubsub/topology.js';

export interface WireOptions {
  emulatorHost: string;
  project: string;
  /** Base URL (http://host:port) of the functions-framework server running each function; unlisted ones are skipped. */
  endpointFor: (f: { name: string }) => string | undefined;
  retry: RetryPolicy;
  functions?: FunctionSpec[];
  /** Functions fed by raw topics; default: the registry's when `functions` is not given, none when it is. */
  messageFunctions?: MessageFunctionSpec[];
}

export interface WiredFunction {
  function: string;
  topic: string;
  deadLetterTopic: string;
  subscription: string;
  pushEndpoint: string;
}

export function pushEndpoint(base: string, project: string, topic: string): string {
  return `${base.replace(/\/+$/, '')}/projects/${project}/topics/${topic}`;
}

export async function wireEmulatorTopology(opts: WireOptions): Promise<{ wired: WiredFunction[]; skipped: string[] }> {
  const retry = checkRetryPolicy(opts.retry);
  const client = new PubSub({ projectId: opts.project, apiEndpoint: opts.emulatorHost, emulatorMode: true });
  const wired: WiredFunction[] = [];
  const skipped: string[] = [];
  try {
    const targets = [
      ...(opts.functions ?? functionRegistry).map((f) => ({ name: f.name, topic: catalog[f.trigger].topic, timeoutSeconds: f.timeoutSeconds })),
      ...(opts.messageFunctions ?? (opts.functions ? [] : messageFunctionRegistry)),
    ];
    for (const f of targets) {
      const base = opts.endpointFor(f);
      if (!base) {
        skipped.push(f.name);
        continue;
      }
      const topic = f.topic;
      const subscription = `${functionDeployedName(f.name)}-push`;
      const endpoint = pushEndpoint(base, opts.project, topic);
      await ensurePushSubscription(client, { project: opts.project, topic, subscription, endpoint, ackDeadlineSeconds: f.timeoutSeconds, retry });
      wired.push({ function: f.name, topic, deadLetterTopic: deadLetterTopic(topic), subscription, pushEndpoint: endpoint });
    }
  } finally {
    await client.close();
  }
  return { wired, skipped };
}

/**
 * The trigger topic (with its dead-letter topic and `-hold` subscription) and a push subscription to `endpoint` with
 * the dead-letter and retry policies; an existing subscription is re-pointed at `endpoint`.
 */
export async function ensurePushSubscription(client: PubSub, s: { project: string; topic: string; subscription: string; endpoint: string; ackDeadlineSeconds: number; retry: RetryPolicy }): Promise<void> {
  await ensureTopicWithDeadLetter(client, s.topic);
  try {
    await client.createSubscription(s.topic, s.subscription, {
      pushConfig: { pushEndpoint: s.endpoint },
      ackDeadlineSeconds: Math.min(600, Math.max(10, s.ackDeadlineSeconds)),
      deadLetterPolicy: { deadLetterTopic: topicPath(s.project, deadLetterTopic(s.topic)), maxDeliveryAttempts: s.retry.maxDeliveryAttempts },
      retryPolicy: { minimumBackoff: duration(s.retry.minBackoffMs), maximumBackoff: duration(s.retry.maxBackoffMs) },
    });
  } catch (err) {
    if (grpcCode(err) !== 6) throw err; // ALREADY_EXISTS: point it at the (possibly new) endpoint
    await client.subscription(s.subscription).modifyPushConfig({ pushEndpoint: s.endpoint });
  }
}

function parseArgs(argv: string[]): { endpoints: Map<string, string>; fallback?: string } {
  const endpoints = new Map<string, string>();
  let fallback: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--endpoint' && v && v.includes('=')) {
      endpoints.set(v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1));
      i++;
    } else if (a === '--default-endpoint' && v) {
      fallback = v;
      i++;
    } else {
      throw new ConfigError(`unknown argument ${a}`, { hint: 'usage: wire.ts --endpoint <function>=<http://host:port> ... [--default-endpoint <url>]' });
    }
  }
  return { endpoints, ...(fallback ? { fallback } : {}) };
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../shared/config/config.js');
  const config = loadConfig({ CTLOOP_MODE: 'emulators', CTLOOP_OBJECT_STORE: 'local', ...process.env });
  if (config.eventBus.kind !== 'pubsub' || !config.eventBus.emulatorHost) {
    throw new ConfigError('PUBSUB_EMULATOR_HOST is not set', { hint: 'start the emulator with emulators/start.sh and export what it prints' });
  }
  const { endpoints, fallback } = parseArgs(process.argv.slice(2));
  for (const name of endpoints.keys()) {
    const names = [...functionRegistry, ...messageFunctionRegistry].map((f) => f.name);
    if (!names.includes(name)) {
      throw new ConfigError(`no function ${name} in shared/topology/functions.ts or message-functions.ts`, { hint: `use one of: ${names.join(', ')}` });
    }
  }
  const { wired, skipped } = await wireEmulatorTopology({
    emulatorHost: config.eventBus.emulatorHost,
    project: config.project,
    retry: config.retry,
    endpointFor: (f) => endpoints.get(f.name) ?? fallback,
  });
  for (const w of wired) console.log(`${w.topic} → ${w.subscription} → ${w.pushEndpoint} (dead letters: ${w.deadLetterTopic})`);
  for (const s of skipped) console.log(`${s}: skipped (no --endpoint ${s}=URL)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error && 'describe' in err ? (err as { describe(): string }).describe() : err);
    process.exit(1);
  });
}
