import { registryOf } from '../adapters/model-registry/runtime.js';
import { LocalTrainingRunner } from '../adapters/training/local.js';
import { ConfigError } from '../errors.js';
import { loadModels, type ModelCatalog } from '../models/config.js';
import type { Runtime } from '../runtime/runtime.js';
import { completeRun } from './complete.js';
import { codeVersion, type LaunchDeps } from './launch.js';
import type { TrainingLauncher } from './launcher.js';

export interface TrainingContext {
  models: ModelCatalog;
  launcher: TrainingLauncher;
  /** The local runner when the backend is local (tests and `ctloop train --wait` wait on it). */
  local: LocalTrainingRunner | null;
  deps: LaunchDeps;
}

const contexts = new WeakMap<Runtime, Promise<TrainingContext>>();

/**
 * The training side of a runtime, built once per runtime from its configuration: the models file (validated against
 * the feature repo) and the launcher of `CTLOOP_TRAINING` (local child processes, or Vertex AI, whose client is
 * imported only then). The local runner reports each job's end through `completeRun`.
 */
export function trainingContext(rt: Runtime, overrides: { launcher?: TrainingLauncher; champion?: LaunchDeps['champion'] } = {}): Promise<TrainingContext> {
  let p = contexts.get(rt);
  if (!p) {
    p = build(rt, overrides);
    p.catch(() => contexts.delete(rt));
    contexts.set(rt, p);
  }
  return p;
}

async function build(rt: Runtime, overrides: { launcher?: TrainingLauncher; champion?: LaunchDeps['champion'] }): Promise<TrainingContext> {
  const t = rt.config.training;
  const models = await loadModels(t.modelsFile, rt.repo);
  let local: LocalTrainingRunner | null = null;
  let launcher: TrainingLauncher;
  if (overrides.launcher) launcher = overrides.launcher;
  else if (t.backend === 'local') {
    local = new LocalTrainingRunner({ objectStore: rt.objectStore });
    local.setOnDone(({ runId, status }) => completeRun(rt, runId, status).then(() => undefined));
    launcher = local;
  } else {
    if (!t.trainerServiceAccount) {
      throw new ConfigError('CTLOOP_TRAINER_SERVICE_ACCOUNT is required to train on Vertex AI', {
        hint: 'set it to the trainer service account of the vertex_ai Terraform module (output trainer_service_account_email), or use CTLOOP_TRAINING=local',
      });
    }
    const { VertexTrainingLauncher } = await import('../adapters/training/vertex.js');
    launcher = new VertexTrainingLauncher({
      project: rt.config.project, region: rt.config.region, serviceAccount: t.trainerServiceAccount,
      ...(t.vertexApiEndpoint ? { apiEndpoint: t.vertexApiEndpoint } : {}),
    });
  }
  const deps: LaunchDeps = {
    warehouse: rt.warehouse, objectStore: rt.objectStore, bus: rt.bus, repo: rt.repo, models, launcher,
    bucket: rt.config.artifactBucket, project: rt.config.project, region: rt.config.region,
    ...(t.trainerImage ? { trainerImage: t.trainerImage } : {}),
    ...(t.trainerServiceAccount ? { trainerServiceAccount: t.trainerServiceAccount } : {}),
    codeVersion: codeVersion(),
    // The serving champion (model registry alias `champion`): the trainer scores it on the same test rows, so the
    // gate compares both models on identical data (shared/evaluation). No champion yet → absolute checks only.
    champion: overrides.champion ?? (async (name) => (await (await registryOf(rt)).getVersion(name, 'champion'))?.artifactUri ?? null),
  };
  return { models, launcher, local, deps };
}
