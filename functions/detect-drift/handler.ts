import { detectDrift } from '../../shared/drift/detect.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * detect-drift: a thin adapter over shared/drift/detect.ts. A missing baseline or view is permanent (dead-lettered
 * with its reason); warehouse/bucket/bus failures are transient and retried — the report id, history rows and the
 * training claim are keyed by the trigger, so a retry neither duplicates history nor loses or repeats a request.
 */
export const detectDriftHandler: EventHandler<'driftCheckRequested'> = async (event, rt) => {
  const r = await detectDrift({ warehouse: rt.warehouse, objectStore: rt.objectStore, bus: rt.bus, repo: rt.repo, bucket: rt.config.artifactBucket }, event);
  log(r.decision.action === 'alert' ? 'warning' : 'info', 'drift checked', {
    eventId: event.id, correlationId: event.correlationId, reportId: r.reportId, baseline: r.baseline.id, window: r.window,
    datasetDrift: r.report.dataset_drift, shareDrifted: r.report.share_drifted, anomalies: r.report.anomalies.length,
    decision: r.decision.action, reason: r.decision.reason, trainingEventId: r.trainingEventId, alertEventId: r.alertEventId,
  });
};
