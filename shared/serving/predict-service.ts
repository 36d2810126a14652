import { randomUUID } from 'node:crypto';
import { CtloopError, describeError, NotFoundError, ValidationError } from '../errors.js';
import type { FeatureRepo } from '../features/definitions.js';
import type { OnlineStore } from '../ports/online-store.js';
import { assembleFeatures, featurePlan, type ServedFeatureStatus, type ViewPlan } from './features.js';
import type { Predictor } from './predictor.js';
import { parsePredictRequest } from './request.js';
import { specOf, type ServedModelSpec } from './served-models.js';
import type { ServingLog } from './serving-log.js';

export interface PredictResponse {
  requestId: string;
  predictions: number[];
  model: { name: string; version: string };
  featureStatuses: Record<string, ServedFeatureStatus>[];
}

export interface PredictServiceDeps {
  predictor: Predictor;
  online: OnlineStore;
  repo: FeatureRepo;
  /** Serving view of the models (feature service, key mapping); a model absent here uses raw values only. */
  models: Map<string, ServedModelSpec>;
  log: ServingLog;
  /** Model used when a request names none (null: requests must name one). */
  defaultModel: string | null;
  /** Models this service answers for (others are 404 before any work). */
  served: ReadonlySet<string>;
  now?: () => Date;
}

/**
 * `/predict` without HTTP: validate the body, fetch online features for entity keys and merge raw values, predict,
 * log every instance (batched), answer predictions with model, version and per-feature statuses. Bad input is a
 * ValidationError naming the fields; an unknown model a NotFoundError; a predictor that cannot serve a
 * TransientError (the caller retries).
 */
export class PredictService {
  private readonly plans = new Map<string, ViewPlan[]>();
  constructor(private readonly deps: PredictServiceDeps) {}

  async predict(body: unknown, opts: { requestId?: string } = {}): Promise<PredictResponse> {
    const t0 = performance.now();
    const req = parsePredictRequest(body);
    const model = req.model ?? this.deps.defaultModel;
    if (!model) throw new ValidationError('bad predict request: model: required (this server serves several models)', { hint: `name one of: ${[...this.deps.served].join(', ')}`, details: { fields: ['model'] } });
    if (!this.deps.served.has(model)) throw new NotFoundError(`model ${model} is not served here`, { hint: `served models: ${[...this.deps.served].join(', ') || '(none)'}` });
    const requestId = opts.requestId ?? randomUUID();
    const assembled = await assembleFeatures({ online: this.deps.online, repo: this.deps.repo, ...(this.deps.now ? { now: this.deps.now } : {}) }, this.plan(model), req.instances);
    const now = this.deps.now ?? (() => new Date());
    const logRows = (p: { version: string | null; deployedModelId: string | null; predictions: (number | null)[]; error: string | null }) =>
      assembled.features.map((f, i) => ({
        requestId, instanceIndex: i, loggedAt: now(), model, version: p.version, deployedModelId: p.deployedModelId, entityKey: assembled.entityKeys[i]!,
        features: f, prediction: p.predictions[i] ?? null, latencyMs: performance.now() - t0, error: p.error,
      }));
    let out;
    try {
      out = await this.deps.predictor.predict(model, assembled.features, { requestId });
      if (out.predictions.length !== assembled.features.length) {
        throw new ValidationError(`the model answered ${out.predictions.length} predictions for ${assembled.features.length} instances`);
      }
    } catch (err) {
      if (!(err instanceof ValidationError) && !(err instanceof NotFoundError)) {
        this.deps.log.append(logRows({ version: null, deployedModelId: null, predictions: [], error: describeError(err).slice(0, 1000) }));
      }
      throw err instanceof CtloopError ? err : new Error(describeError(err), { cause: err });
    }
    this.deps.log.append(logRows({ version: out.version, deployedModelId: out.deployedModelId, predictions: out.predictions, error: null }));
    return { requestId, predictions: out.predictions, model: { name: model, version: out.version }, featureStatuses: assembled.statuses };
  }

  private plan(model: string): ViewPlan[] {
    let p = this.plans.get(model);
    if (!p) {
      p = featurePlan(this.deps.repo, specOf(this.deps.models, model));
      this.plans.set(model, p);
    }
    return p;
  }
}
