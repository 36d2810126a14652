import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';
import { trainingContext } from '../../shared/training/context.js';
import { launchTraining } from '../../shared/training/launch.js';

/**
 * launch-training: a thin adapter over shared/training/launch.ts. It returns once the job is started (Vertex AI
 * CustomJob, or a local child process); the job's end arrives later as an event (the local runner's exit, or the
 * Vertex AI job-state log sink → complete-training), never by waiting here.
 */
export const launchTrainingHandler: EventHandler<'trainingRequested'> = async (event, rt) => {
  const ctx = await trainingContext(rt);
  const r = await launchTraining(ctx.deps, event);
  log(r.action === 'failed' ? 'warning' : 'info', 'training request handled', { eventId: event.id, correlationId: event.correlationId, model: event.data.model, ...r });
};
