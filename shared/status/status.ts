import type { ModelRegistry } from '../ports/model-registry.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { listDeadLetters } from '../runtime/dead-letters.js';
import { listRuns } from '../training/runs.js';
import type { EndpointView, LoopExtras, RolloutView } from './extras.js';
import { latestDriftReports, type DriftReportSummary } from './reads.js';

/**
 * `ctloop status`: one look at the loop — models and their aliases, endpoints and traffic (when delivery exists),
 * the last drift report of each view, training runs not finished, and dead letters per consumer.
 */
export interface ModelStatus {
  model: string;
  versions: number;
  latest: { version: string; blessed: boolean; createdAt: string };
  /** alias → version */
  aliases: Record<string, string>;
  champion: { version: string; metrics: Record<string, number> } | null;
}

export interface LoopStatus {
  models: ModelStatus[];
  /** null: no deployments yet (delivery is not part of this build, or has nothing to say). */
  endpoints: EndpointView[] | null;
  rollouts: RolloutView[] | null;
  drift: DriftReportSummary[];
  runsInFlight: { runId: string; model: string; state: string; trigger: string; backend: string; createdAt: string; deadlineAt: string | null }[];
  deadLetters: { consumer: string; count: number; latest: string; reason: string }[];
}

export interface StatusDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  registry: ModelRegistry;
  bucket: string;
  journalDir?: string;
  extras: LoopExtras;
}

export async function loopStatus(deps: StatusDeps): Promise<LoopStatus> {
  const versions = await deps.registry.listVersions();
  const byModel = new Map<string, typeof versions>();
  for (const v of versions) byModel.set(v.model, [...(byModel.get(v.model) ?? []), v]);
  const models: ModelStatus[] = [...byModel.entries()].map(([model, vs]) => {
    const latest = vs.at(-1)!;
    const champion = vs.find((v) => v.aliases.includes('champion')) ?? null;
    return {
      model, versions: vs.length, latest: { version: latest.version, blessed: latest.blessed, createdAt: latest.createdAt },
      aliases: Object.fromEntries(vs.flatMap((v) => v.aliases.map((a) => [a, v.version] as const)).sort(([a], [b]) => a.localeCompare(b))),
      champion: champion && { version: champion.version, metrics: champion.metrics },
    };
  });
  const names = models.map((m) => m.model);
  const [endpoints, rollouts] = await Promise.all([deps.extras.endpoints(names), deps.extras.rollouts(names)]);
  const runs = await listRuns(deps.warehouse, { unfinished: true });
  const letters = await listDeadLetters({ objectStore: deps.objectStore, bucket: deps.bucket, ...(deps.journalDir ? { journalDir: deps.journalDir } : {}) });
  const dl = new Map<string, LoopStatus['deadLetters'][number]>();
  for (const d of letters) {
    const cur = dl.get(d.consumer);
    if (!cur) dl.set(d.consumer, { consumer: d.consumer, count: 1, latest: d.time, reason: d.reason.split('\n')[0] ?? '' });
    else {
      cur.count++;
      if (d.time > cur.latest) Object.assign(cur, { latest: d.time, reason: d.reason.split('\n')[0] ?? '' });
    }
  }
  return {
    models, endpoints, rollouts: rollouts && rollouts.filter((r) => r.phase !== 'promoted' && r.phase !== 'rolled_back'),
    drift: await latestDriftReports(deps.warehouse),
    runsInFlight: runs.map((r) => ({ runId: r.runId, model: r.model, state: r.state, trigger: r.trigger, backend: r.backend, createdAt: r.createdAt, deadlineAt: r.deadlineAt })),
    deadLetters: [...dl.values()].sort((a, b) => a.consumer.localeCompare(b.consumer)),
  };
}
