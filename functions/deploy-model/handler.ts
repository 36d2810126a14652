import { deliveryDeps } from '../../shared/delivery/runtime.js';
import { startRollout } from '../../shared/delivery/rollout.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * deploy-model: on a blessed model.evaluated, start the canary rollout of the candidate (deploy.requested, then as
 * many steps as can be taken without waiting). A refused candidate is skipped. The rest of the rollout — operations
 * still running, the canary period, the verdict — is taken by reconcile-deployments on its timer.
 */
export const deployModelHandler: EventHandler<'modelEvaluated'> = async (event, rt) => {
  const { model, candidateVersion, blessed } = event.data;
  if (!blessed) {
    log('info', 'candidate not blessed: not deployed', { eventId: event.id, model, version: candidateVersion });
    return;
  }
  const r = await startRollout(await deliveryDeps(rt, 'functions/deploy-model'), { model, version: candidateVersion, cause: event });
  log('info', 'rollout advanced', { eventId: event.id, correlationId: event.correlationId, model, version: candidateVersion, phase: r.phase, reason: r.reason });
};
