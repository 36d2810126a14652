import { resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { methodNames, methods, type MethodName } from '../drift/methods.js';

/**
 * Delivery settings, read once from the environment (zod) next to the runtime's Config and injected:
 * which endpoint adapter serves, how Vertex deploys, and the canary policy.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | CTLOOP_ENDPOINT | `vertex` with the Vertex registry, else `embedded` | endpoint adapter |
 * | CTLOOP_VERTEX_ENDPOINT | — (required for vertex) | endpoint id (Terraform output `vertex_endpoint_id`) |
 * | CTLOOP_SERVING_MACHINE_TYPE / _MIN_REPLICAS / _MAX_REPLICAS | n1-standard-2 / 1 / 2 | Vertex dedicated resources |
 * | CTLOOP_SERVER_SERVICE_ACCOUNT | — | identity of the serving container |
 * | CTLOOP_CANARY_PERCENT | 10 | canary share of traffic |
 * | CTLOOP_CANARY_MIN_SECONDS | 900 | the canary period lasts at least this long |
 * | CTLOOP_CANARY_MIN_PREDICTIONS | 200 | … and until the canary answered this many predictions |
 * | CTLOOP_CANARY_MAX_SECONDS | 86400 | … but decides at this age whatever the count |
 * | CTLOOP_CANARY_MAX_ERROR_RATE_DELTA | 0.01 | canary error rate may exceed the champion's by this much |
 * | CTLOOP_CANARY_MAX_LATENCY_RATIO | 1.5 | canary p99 latency may be this multiple of the champion's |
 * | CTLOOP_CANARY_DRIFT_METHOD / _THRESHOLD | psi / 0.2 | live canary predictions vs the candidate's test predictions |
 */
const int = (d: number) => z.coerce.number().int().min(0).default(d);
const num = (d: number) => z.coerce.number().min(0).default(d);

const envSchema = z.object({
  CTLOOP_ENDPOINT: z.enum(['embedded', 'vertex']).optional(),
  /** The endpoint id, or its full resource name as Terraform's output gives it (projects/P/locations/R/endpoints/ID). */
  CTLOOP_VERTEX_ENDPOINT: z.string().regex(/^(projects\/[^/]+\/locations\/[^/]+\/endpoints\/)?[0-9a-z-]{1,63}$/, 'an endpoint id (digits) or projects/P/locations/R/endpoints/ID').transform((s) => s.split('/').at(-1)!).optional(),
  CTLOOP_SERVING_MACHINE_TYPE: z.string().min(1).default('n1-standard-2'),
  CTLOOP_SERVING_MIN_REPLICAS: z.coerce.number().int().min(1).default(1),
  CTLOOP_SERVING_MAX_REPLICAS: z.coerce.number().int().min(1).default(2),
  CTLOOP_SERVER_SERVICE_ACCOUNT: z.string().email().optional(),
  CTLOOP_CANARY_PERCENT: z.coerce.number().int().min(1).max(100).default(10),
  CTLOOP_CANARY_MIN_SECONDS: int(900),
  CTLOOP_CANARY_MIN_PREDICTIONS: int(200),
  CTLOOP_CANARY_MAX_SECONDS: int(86_400),
  CTLOOP_CANARY_MAX_ERROR_RATE_DELTA: num(0.01),
  CTLOOP_CANARY_MAX_LATENCY_RATIO: num(1.5),
  CTLOOP_CANARY_DRIFT_METHOD: z.enum(methodNames as [MethodName, ...MethodName[]]).default('psi'),
  CTLOOP_CANARY_DRIFT_THRESHOLD: z.coerce.number().positive().optional(),
});

export interface CanaryPolicy {
  percent: number;
  minSeconds: number;
  minPredictions: number;
  maxSeconds: number;
  maxErrorRateDelta: number;
  maxLatencyRatio: number;
  driftMethod: MethodName;
  driftThreshold: number;
}

export type EndpointConfig =
  | { kind: 'embedded'; dir: string }
  | { kind: 'vertex'; project: string; region: string; apiEndpoint?: string; endpointId: string; machineType: string; minReplicas: number; maxReplicas: number; serviceAccount: string | null };

export interface DeliveryConfig {
  endpoint: EndpointConfig;
  canary: CanaryPolicy;
}

export function loadDeliveryConfig(config: Config, env: NodeJS.ProcessEnv = process.env): DeliveryConfig {
  const known = Object.fromEntries(Object.keys(envSchema.shape).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const name = String(first.path[0]);
    throw new ConfigError(`${name}=${JSON.stringify(env[name] ?? '')} is invalid: ${first.message}`, {
      hint: `set ${name} to a valid value or unset it to use the default (see shared/delivery/config.ts)`, details: { variable: name },
    });
  }
  const e = parsed.data;
  if (e.CTLOOP_CANARY_MAX_SECONDS < e.CTLOOP_CANARY_MIN_SECONDS) {
    throw new ConfigError(`CTLOOP_CANARY_MAX_SECONDS (${e.CTLOOP_CANARY_MAX_SECONDS}) is below CTLOOP_CANARY_MIN_SECONDS (${e.CTLOOP_CANARY_MIN_SECONDS})`, { hint: 'the canary period ends between the two: make the maximum at least the minimum' });
  }
  const reg = config.modelRegistry;
  const kind = e.CTLOOP_ENDPOINT ?? (reg.kind === 'vertex' ? 'vertex' : 'embedded');
  let endpoint: EndpointConfig;
  if (kind === 'embedded') endpoint = { kind, dir: resolve(config.stateDir, 'endpoints') };
  else {
    if (!e.CTLOOP_VERTEX_ENDPOINT) throw new ConfigError('CTLOOP_VERTEX_ENDPOINT is required with the Vertex AI endpoint', { hint: 'export CTLOOP_VERTEX_ENDPOINT=<id> (terraform output vertex_endpoint_id)', details: { variable: 'CTLOOP_VERTEX_ENDPOINT' } });
    endpoint = {
      kind, project: config.project, region: config.region, ...(reg.kind === 'vertex' && reg.apiEndpoint ? { apiEndpoint: reg.apiEndpoint } : {}),
      endpointId: e.CTLOOP_VERTEX_ENDPOINT, machineType: e.CTLOOP_SERVING_MACHINE_TYPE, minReplicas: e.CTLOOP_SERVING_MIN_REPLICAS,
      maxReplicas: Math.max(e.CTLOOP_SERVING_MAX_REPLICAS, e.CTLOOP_SERVING_MIN_REPLICAS), serviceAccount: e.CTLOOP_SERVER_SERVICE_ACCOUNT ?? null,
    };
  }
  return {
    endpoint,
    canary: {
      percent: e.CTLOOP_CANARY_PERCENT, minSeconds: e.CTLOOP_CANARY_MIN_SECONDS, minPredictions: e.CTLOOP_CANARY_MIN_PREDICTIONS,
      maxSeconds: e.CTLOOP_CANARY_MAX_SECONDS, maxErrorRateDelta: e.CTLOOP_CANARY_MAX_ERROR_RATE_DELTA, maxLatencyRatio: e.CTLOOP_CANARY_MAX_LATENCY_RATIO,
      driftMethod: e.CTLOOP_CANARY_DRIFT_METHOD, driftThreshold: e.CTLOOP_CANARY_DRIFT_THRESHOLD ?? (e.CTLOOP_CANARY_DRIFT_METHOD === 'psi' ? 0.2 : methods[e.CTLOOP_CANARY_DRIFT_METHOD].defaultThreshold),
    },
  };
}
