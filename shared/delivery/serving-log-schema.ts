import type { TableSpec } from '../ports/warehouse.js';

/**
 * The serving log as the deploy decision reads it: one row per predicted instance, written by the `/predict` API
 * (shared/serving, batched). The columns read here are named once; `latency_ms` and `error` are optional signals —
 * when the table has no such column the corresponding canary check is skipped, not failed.
 */
export const SERVING_LOG_TABLE = '_serving_log';

export const SERVING_LOG = {
  requestId: 'request_id',
  model: 'model',
  version: 'version',
  deployedModelId: 'deployed_model_id',
  prediction: 'prediction',
  features: 'features',
  time: 'logged_at',
  latencyMs: 'latency_ms',
  error: 'error',
} as const;

/** The table with every column above (tests create it; the serving log writer creates the real one). */
export const servingLogTable: TableSpec = {
  name: SERVING_LOG_TABLE, description: 'ctloop serving log: one row per predicted instance', labels: { ctloop_kind: 'serving_log' },
  partitionBy: SERVING_LOG.time, clusterBy: [SERVING_LOG.model, SERVING_LOG.deployedModelId],
  columns: [
    { name: SERVING_LOG.requestId, type: 'STRING', mode: 'REQUIRED' },
    { name: SERVING_LOG.model, type: 'STRING', mode: 'REQUIRED' },
    { name: SERVING_LOG.version, type: 'STRING', mode: 'REQUIRED' },
    { name: SERVING_LOG.deployedModelId, type: 'STRING', mode: 'REQUIRED' },
    { name: SERVING_LOG.prediction, type: 'FLOAT64' },
    { name: SERVING_LOG.features, type: 'STRING', description: 'JSON object of the features as used' },
    { name: SERVING_LOG.time, type: 'TIMESTAMP', mode: 'REQUIRED' },
    { name: SERVING_LOG.latencyMs, type: 'FLOAT64' },
    { name: SERVING_LOG.error, type: 'STRING' },
  ],
};
