import { deliveryDeps } from '../../shared/delivery/runtime.js';
import { reconcileRollouts } from '../../shared/delivery/rollout.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * reconcile-deployments: on each deployment.check_requested tick (every minute), advance every active rollout as
 * far as it can go now — resume endpoint operations by name, end canary periods that have lasted long enough,
 * promote or roll back. Nothing waits; an idle tick reads one object listing.
 */
export const reconcileDeploymentsHandler: EventHandler<'deploymentCheckRequested'> = async (event, rt) => {
  const rollouts = await reconcileRollouts(await deliveryDeps(rt, 'functions/reconcile-deployments'), event.data.model);
  for (const r of rollouts) log('info', 'rollout reconciled', { eventId: event.id, model: r.model, version: r.version, phase: r.phase, reason: r.reason });
};
