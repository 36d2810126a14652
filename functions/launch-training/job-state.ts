import { decodePubsubCloudEvent, type IncomingCloudEvent } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { trainingContext } from '../../shared/training/context.js';
import { onJobStateLog, reconcileRuns } from '../../shared/training/job-state.js';

/**
 * complete-training (second entry point of the launch-training source): the consumer of the `ctloop-vertex-job-state`
 * subscription. Messages are Cloud Logging entries of Vertex AI CustomJobs (the log sink of the vertex_ai module), or
 * `{"reconcile": true}` from a scheduler job: then every unfinished run is reconciled. Failures are rethrown, so
 * Pub/Sub redelivers (and dead-letters after the subscription's max attempts); completion itself is idempotent.
 */
export function completeTrainingFunction(getRuntime: () => Promise<Runtime>) {
  return async (ce: IncomingCloudEvent): Promise<void> => {
    const rt = await getRuntime();
    const { data, messageId } = decodePubsubCloudEvent(ce);
    let body: unknown;
    try {
      body = JSON.parse(data.toString('utf8'));
    } catch {
      // Not a log entry nor a reconcile request: nothing this consumer can act on (a retry would not change it).
      log('warning', 'vertex job state: message is not JSON, ignored', { messageId, bytes: data.length });
      return;
    }
    await completeTrainingHandler(body, rt, { messageId });
  };
}

/** One message of the job-state topic, decoded: what the function does, and what `ctloop run`'s scheduler runs in-process. */
export async function completeTrainingHandler(body: unknown, rt: Runtime, { messageId }: { messageId: string }): Promise<void> {
  const ctx = await trainingContext(rt);
  const deps = { ...rt, launcher: ctx.launcher, project: rt.config.project, region: rt.config.region };
  if ((body as { reconcile?: unknown } | null)?.reconcile === true) {
    const runs = await reconcileRuns(deps);
    log('info', 'training runs reconciled', { messageId, runs: runs.length });
    return;
  }
  const r = await onJobStateLog(deps, body);
  if (r.action !== 'ignored') log('info', 'vertex job state', { messageId, ...r });
}
