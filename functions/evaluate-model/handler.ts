import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { evaluateTrainedModel } from '../../shared/evaluation/evaluate-model.js';
import { modelsFileSource } from '../../shared/evaluation/model-source.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * evaluate-model: a thin adapter over shared/evaluation/evaluate-model.ts. A missing predictions file or a bad model
 * configuration is permanent (dead-lettered with its reason); registry, bucket and bus failures are transient and
 * retried — registration is keyed by the run id, so a retry registers once and republishes the same event.
 */
export const evaluateModelHandler: EventHandler<'trainingCompleted'> = async (event, rt) => {
  const t = rt.config.training;
  const models = modelsFileSource(t.modelsFile, { project: rt.config.project, region: rt.config.region, repo: rt.repo, ...(t.trainerImage ? { trainerImage: t.trainerImage } : {}) });
  const r = await evaluateTrainedModel({ objectStore: rt.objectStore, bus: rt.bus, registry: await registryOf(rt), models }, event);
  if (r.action === 'skipped') {
    log('info', 'nothing to evaluate', { eventId: event.id, correlationId: event.correlationId, model: event.data.model, runId: event.data.runId ?? event.data.jobId, reason: r.reason });
    return;
  }
  log(r.blessed ? 'info' : 'warning', r.action === 'evaluated' ? 'model evaluated' : 'model already registered: evaluation republished', {
    eventId: event.id, correlationId: event.correlationId, model: r.version.model, version: r.version.version, runId: r.version.runId,
    blessed: r.blessed, failedChecks: r.failedChecks, aliases: r.version.aliases, evaluatedEventId: r.eventId,
  });
};
