import type { Warehouse } from '../ports/warehouse.js';
import { SERVING_LOG, SERVING_LOG_TABLE } from './serving-log-schema.js';

/**
 * Live signals of one deployed model over a window of the serving log: how many instances it answered, how many
 * failed, its p99 latency, and its predictions (the most recent `sampleLimit`). `latencyP99Ms` / `errors` are null
 * when the log has no such column.
 */
export interface LiveSignals {
  deployedModelId: string;
  count: number;
  errors: number | null;
  latencyP99Ms: number | null;
  predictions: number[];
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export async function readSignals(
  warehouse: Warehouse, model: string, deployedModelIds: string[], since: Date, until: Date, sampleLimit = 20_000,
): Promise<Map<string, LiveSignals>> {
  const out = new Map<string, LiveSignals>(deployedModelIds.map((id) => [id, { deployedModelId: id, count: 0, errors: null, latencyP99Ms: null, predictions: [] }]));
  const table = await warehouse.getTable(SERVING_LOG_TABLE);
  if (!table) return out;
  const has = new Set(table.columns.map((c) => c.name));
  const d = warehouse.dialect;
  const c = (n: string) => d.ident(n);
  for (const id of deployedModelIds) {
    const cols = [c(SERVING_LOG.prediction), has.has(SERVING_LOG.latencyMs) ? c(SERVING_LOG.latencyMs) : 'NULL', has.has(SERVING_LOG.error) ? c(SERVING_LOG.error) : 'NULL'];
    const rows = await warehouse.query(
      `SELECT ${cols[0]} AS p, ${cols[1]} AS l, ${cols[2]} AS e FROM ${d.table(SERVING_LOG_TABLE)}
       WHERE ${c(SERVING_LOG.model)} = ${d.param('model')} AND ${c(SERVING_LOG.deployedModelId)} = ${d.param('id')}
         AND ${c(SERVING_LOG.time)} >= ${d.param('since')} AND ${c(SERVING_LOG.time)} < ${d.param('until')}
       ORDER BY ${c(SERVING_LOG.time)} DESC LIMIT ${Math.floor(sampleLimit)}`,
      { params: { model: { type: 'STRING', value: model }, id: { type: 'STRING', value: id }, since: { type: 'TIMESTAMP', value: since }, until: { type: 'TIMESTAMP', value: until } } },
    );
    const latencies = rows.map((r) => r.l).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
    out.set(id, {
      deployedModelId: id,
      count: rows.length,
      errors: has.has(SERVING_LOG.error) ? rows.filter((r) => r.e !== null && r.e !== '').length : null,
      latencyP99Ms: has.has(SERVING_LOG.latencyMs) ? quantile(latencies, 0.99) : null,
      predictions: rows.filter((r) => (r.e === null || r.e === '') && r.p !== null).map((r) => Number(r.p)).filter(Number.isFinite),
    });
  }
  return out;
}
