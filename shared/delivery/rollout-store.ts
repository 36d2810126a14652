import { NotFoundError } from '../errors.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { CanaryCheck } from './compare.js';

/**
 * A rollout: one version's way from canary to promotion or rollback, advanced step by step by the deploy functions
 * (never waiting inside one invocation). Kept as JSON in the object store: the model's active rollout at
 * `deployments/<model>/rollout.json`, finished ones under `deployments/<model>/history/<id>.json`.
 */
export type RolloutPhase = 'deploying' | 'canary' | 'promoting' | 'rolling_back' | 'promoted' | 'rolled_back';

export interface Rollout {
  /** The deploy.requested event's id. */
  id: string;
  model: string;
  version: string;
  canaryPercent: number;
  championVersion: string | null;
  championDeployedModelId: string | null;
  candidateDeployedModelId: string | null;
  /** A deployment was started on the endpoint (its operation may still run), so a rollback must resume and undo it. */
  deployStarted?: boolean;
  endpoint: string | null;
  phase: RolloutPhase;
  requestedAt: string;
  canaryStartedAt: string | null;
  decidedAt: string | null;
  correlationId: string;
  /** The last event of the chain: the next step's event is caused by it. */
  lastEventId: string;
  reason: string | null;
  checks: CanaryCheck[];
}

export const isFinished = (r: Rollout) => r.phase === 'promoted' || r.phase === 'rolled_back';

export class RolloutStore {
  constructor(private readonly objects: ObjectStore, private readonly bucket: string) {}

  private active(model: string): string {
    return `gs://${this.bucket}/deployments/${model}/rollout.json`;
  }

  private history(model: string, id: string): string {
    return `gs://${this.bucket}/deployments/${model}/history/${encodeURIComponent(id)}.json`;
  }

  async get(model: string): Promise<Rollout | null> {
    if (!(await this.objects.exists(this.active(model)))) return null;
    try {
      return JSON.parse((await this.objects.get(this.active(model))).toString('utf8')) as Rollout;
    } catch (err) {
      // Finished (and deleted by `save`) between exists and get: there is no active rollout any more.
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async save(r: Rollout): Promise<void> {
    const body = JSON.stringify(r, null, 2);
    if (isFinished(r)) {
      await this.objects.put(this.history(r.model, r.id), body, { contentType: 'application/json' });
      await this.objects.delete(this.active(r.model)).catch(() => undefined);
    } else {
      await this.objects.put(this.active(r.model), body, { contentType: 'application/json' });
    }
  }

  /** A finished rollout by id, or null. */
  async finishedById(model: string, id: string): Promise<Rollout | null> {
    const uri = this.history(model, id);
    if (!(await this.objects.exists(uri))) return null;
    return JSON.parse((await this.objects.get(uri)).toString('utf8')) as Rollout;
  }

  /** Finished rollouts of a model, oldest first. */
  async finished(model: string): Promise<Rollout[]> {
    const list = await this.objects.list(`gs://${this.bucket}/deployments/${model}/history/`);
    const all = await Promise.all(list.map(async (o) => JSON.parse((await this.objects.get(o.uri)).toString('utf8')) as Rollout));
    return all.sort((a, b) => (a.decidedAt ?? '').localeCompare(b.decidedAt ?? ''));
  }

  /** Models with an active rollout. */
  async activeModels(): Promise<string[]> {
    const list = await this.objects.list(`gs://${this.bucket}/deployments/`);
    return list.filter((o) => o.uri.endsWith('/rollout.json')).map((o) => o.uri.split('/').at(-2)!).sort();
  }
}
