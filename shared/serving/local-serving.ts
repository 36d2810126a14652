import { join } from 'node:path';
import { localModelDir } from '../adapters/endpoint/index.js';
import { registryOf } from '../adapters/model-registry/runtime.js';
import { NotFoundError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { PredictService } from './predict-service.js';
import { loadServedModels } from './served-models.js';
import { ServingLog, type ServingLogOptions } from './serving-log.js';
import { SingleVersionPredictor } from './single-version-predictor.js';
import { modelServerCommand } from './server-command.js';
import { EndpointFirstPredictor } from './endpoint-predictor.js';
import { deliveryOf } from '../delivery/runtime.js';

export interface LocalServing {
  service: PredictService;
  predictor: SingleVersionPredictor;
  log: ServingLog;
  /** Served model → version. */
  versions(): Record<string, string>;
  /** Flush the serving log and stop the model servers. */
  close(): Promise<void>;
}

/**
 * `/predict` for the embedded default: one model server per model for `ref` (default champion) of each, online
 * features from the runtime's online store, the serving log in the runtime's warehouse. With no `models`, every
 * registered model that has `ref` is served.
 */
export async function openLocalServing(rt: Runtime, opts: { models?: string[]; ref?: string; python?: string; log?: ServingLogOptions } = {}): Promise<LocalServing> {
  const registry = await registryOf(rt);
  const ref = opts.ref ?? 'champion';
  let models = opts.models ?? [];
  if (models.length === 0) {
    const all = [...new Set((await registry.listVersions()).map((v) => v.model))];
    models = (await Promise.all(all.map(async (m) => ((await registry.getVersion(m, ref)) ? m : null)))).filter((m): m is string => m !== null);
    if (models.length === 0) {
      throw new NotFoundError(`no registered model has a version "${ref}" to serve`, {
        hint: all.length ? `registered models: ${all.join(', ')}; name a version with --version` : 'train and register a model first (ctloop train --model flight_delay --wait)',
      });
    }
  }
  const specs = await loadServedModels(rt.config.training.modelsFile, rt.repo);
  // Registered artifacts live in the object store (gs:// URIs, also on the embedded default): serve a local copy.
  const cache = join(rt.config.stateDir, 'endpoints', 'models');
  const predictor = await SingleVersionPredictor.start(registry, models.map((model) => ({ model, ref })), { command: modelServerCommand(opts.python ? { python: opts.python } : {}) },
    (model, version) => localModelDir({ registry, objectStore: rt.objectStore }, cache, model, version));
  const log = new ServingLog(rt.warehouse, opts.log);
  // Deployed models are served by the loop's endpoint (traffic split, canary); the others by their champion.
  const { endpoint } = await deliveryOf(rt);
  const service = new PredictService({
    predictor: new EndpointFirstPredictor(endpoint, predictor), online: rt.online, repo: rt.repo, models: specs, log,
    defaultModel: models.length === 1 ? models[0]! : null, served: new Set(models),
  });
  return {
    service, predictor, log,
    versions: () => Object.fromEntries(predictor.models().map((m) => [m.model, m.version])),
    async close() {
      try {
        await log.close();
      } finally {
        await predictor.close();
      }
    },
  };
}
