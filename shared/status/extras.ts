import type { Runtime } from '../runtime/runtime.js';

/**
 * The parts of the loop after the registry — endpoints and traffic, canary rollouts, live performance from delayed
 * labels — come from delivery (shared/delivery, the Endpoint port) and serving (shared/serving, `_serving_log`).
 * Status, lineage and the report read them through this interface only, and only when they exist: each source is
 * looked up when it is read (its module is loaded, its table or objects checked); where there is none, the section
 * says "no deployments yet" rather than showing anything made up.
 */
export interface TrafficShare {
  version: string;
  deployedModelId: string;
  percent: number;
  health: string | null;
}

export interface EndpointView {
  model: string;
  endpoint: string;
  traffic: TrafficShare[];
}

export interface CanaryCheckView {
  name: string;
  passed: boolean | null;
  detail: string;
  canary: number | null;
  champion: number | null;
}

export interface RolloutView {
  id: string;
  model: string;
  version: string;
  championVersion: string | null;
  canaryPercent: number;
  phase: string;
  requestedAt: string;
  canaryStartedAt: string | null;
  decidedAt: string | null;
  reason: string | null;
  correlationId: string | null;
  checks: CanaryCheckView[];
}

export interface LivePoint {
  model: string;
  version: string;
  /** UTC day (YYYY-MM-DD) of the predictions. */
  day: string;
  predictions: number;
  labelled: number;
  auc: number | null;
  logLoss: number | null;
}

/** `null` from a source = the source does not exist here (yet); an empty list = it exists and holds nothing. */
export interface LoopExtras {
  endpoints(models: string[]): Promise<EndpointView[] | null>;
  rollouts(models: string[]): Promise<RolloutView[] | null>;
  live(models: string[]): Promise<LivePoint[] | null>;
}

export const noExtras: LoopExtras = {
  endpoints: async () => null,
  rollouts: async () => null,
  live: async () => null,
};

type Module = Record<string, unknown>;

/** A module of the project that may not be there yet: null when it is absent (any other failure is thrown). */
export async function optionalModule(relative: string): Promise<Module | null> {
  try {
    return (await import(/* @vite-ignore */ new URL(relative, import.meta.url).href)) as Module;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The model's rollouts from delivery's rollout store (active and finished), when delivery is part of this build. */
async function readRollouts(rt: Runtime, models: string[]): Promise<RolloutView[] | null> {
  const mod = await optionalModule('../delivery/rollout-store.js');
  const Store = mod?.RolloutStore as (new (o: unknown, b: string) => { get(m: string): Promise<unknown>; finished(m: string): Promise<unknown[]> }) | undefined;
  if (!Store) return null;
  const store = new Store(rt.objectStore, rt.config.artifactBucket);
  const out: RolloutView[] = [];
  for (const m of models) {
    const all = [...(await store.finished(m)), await store.get(m)].filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
    for (const r of all) {
      out.push({
        id: String(r.id), model: String(r.model), version: String(r.version), championVersion: str(r.championVersion), canaryPercent: num(r.canaryPercent) ?? 0,
        phase: String(r.phase), requestedAt: String(r.requestedAt), canaryStartedAt: str(r.canaryStartedAt), decidedAt: str(r.decidedAt),
        reason: str(r.reason), correlationId: str(r.correlationId),
        checks: (Array.isArray(r.checks) ? r.checks : []).map((c: Record<string, unknown>) => ({
          name: String(c.name ?? c.check ?? c.metric ?? 'check'), passed: typeof c.passed === 'boolean' ? c.passed : typeof c.ok === 'boolean' ? c.ok : null,
          detail: String(c.detail ?? ''), canary: num(c.canary ?? c.candidate), champion: num(c.champion),
        })),
      });
    }
  }
  return out;
}

/** Endpoints and their traffic split through the Endpoint port, when delivery is part of this build. */
async function readEndpoints(rt: Runtime, models: string[]): Promise<EndpointView[] | null> {
  const mod = await optionalModule('../delivery/runtime.js');
  const deliveryOf = mod?.deliveryOf as ((r: Runtime) => Promise<{ endpoint: { describe(m: string): Promise<unknown> } }>) | undefined;
  if (!deliveryOf) return null;
  const { endpoint } = await deliveryOf(rt);
  const out: EndpointView[] = [];
  for (const m of models) {
    const s = (await endpoint.describe(m)) as { endpoint: string; deployedModels: { deployedModelId: string; version: string; health?: string }[]; trafficSplit: Record<string, number> } | null;
    if (!s) continue;
    out.push({
      model: m, endpoint: s.endpoint,
      traffic: s.deployedModels.map((d) => ({ version: d.version, deployedModelId: d.deployedModelId, percent: s.trafficSplit[d.deployedModelId] ?? 0, health: d.health ?? null })),
    });
  }
  return out;
}

/** Live metrics per version and day from the serving log and delayed labels, when serving is part of this build and has logged. */
async function readLive(rt: Runtime, models: string[]): Promise<LivePoint[] | null> {
  if (!(await rt.warehouse.getTable('_serving_log'))) return null;
  const mod = await optionalModule('../serving/monitor.js');
  const liveMetrics = mod?.liveMetrics as ((w: Runtime['warehouse'], m: string) => Promise<Record<string, unknown>[]>) | undefined;
  if (!liveMetrics) return null;
  const out: LivePoint[] = [];
  for (const m of models) {
    for (const r of await liveMetrics(rt.warehouse, m)) {
      if (r.day === 'all') continue;
      out.push({ model: m, version: String(r.version), day: String(r.day), predictions: num(r.predictions) ?? 0, labelled: num(r.labelled) ?? 0, auc: num(r.auc), logLoss: num(r.logLoss) });
    }
  }
  return out;
}

/** The extras of a runtime, each read from its source when present. */
export function runtimeExtras(rt: Runtime): LoopExtras {
  return {
    endpoints: (models) => readEndpoints(rt, models),
    rollouts: (models) => readRollouts(rt, models),
    live: (models) => readLive(rt, models),
  };
}
