import type { Run } from '../../shared/training/runs.js';

/** The fields of a run the CLI prints (train, runs list/show). */
export function runSummary(run: Run) {
  const splits = (run.datasets as { splits?: Record<string, { rows?: number; uri?: string }> }).splits ?? {};
  const rows = Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.rows ?? null]));
  const seconds = run.finishedAt ? (Date.parse(run.finishedAt) - Date.parse(run.createdAt)) / 1000 : null;
  const metrics = Object.fromEntries(Object.entries(run.metrics).filter(([k]) => k !== 'logs_tail'));
  return {
    runId: run.runId, model: run.model, state: run.state, trigger: run.trigger, driftReportId: run.driftReportId, backend: run.backend,
    jobId: run.jobId, createdAt: run.createdAt, finishedAt: run.finishedAt, seconds,
    trainSeconds: typeof run.metrics.train_seconds === 'number' ? run.metrics.train_seconds : null,
    metrics, rows, modelUri: run.modelUri, error: run.error,
    logsTail: typeof run.metrics.logs_tail === 'string' ? run.metrics.logs_tail : null,
  };
}

/** Flatten nested params/metrics into dotted keys for side-by-side comparison. */
export function flatten(o: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = typeof o === 'number' && !Number.isInteger(o) ? o.toFixed(4) : Array.isArray(o) ? o.join(' ') : String(o);
  }
  return out;
}
