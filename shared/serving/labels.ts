import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { ColumnSchema, Row, TableSpec, Warehouse } from '../ports/warehouse.js';
import { parseInstant } from '../time.js';
import { entityKeyOf, resolveKeys, type ViewPlan } from './features.js';
import { ensureServingLogTable, SERVING_LOG_TABLE } from './serving-log.js';

/**
 * Delayed labels: outcomes that arrive after the prediction, joined to the serving log and kept in `_serving_labels`
 * (one label per predicted instance; a later label for the same instance replaces it).
 */
export const SERVING_LABELS_TABLE = '_serving_labels';

export const labelColumns: ColumnSchema[] = [
  { name: 'request_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'instance_index', type: 'INT64', mode: 'REQUIRED' },
  { name: 'model', type: 'STRING', mode: 'REQUIRED' },
  { name: 'label', type: 'INT64', mode: 'REQUIRED', description: 'observed outcome, 0 or 1' },
  { name: 'label_time', type: 'TIMESTAMP', description: 'when the outcome was observed (as given)' },
  { name: 'ingested_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

export const labelsTable: TableSpec = {
  name: SERVING_LABELS_TABLE, columns: labelColumns, partitionBy: 'ingested_at', clusterBy: ['model', 'request_id'],
  description: 'ctloop delayed labels joined to the serving log', labels: { ctloop_kind: 'serving_labels' },
};

/** A label by request id (and instance, default every instance of the request) or by entity keys and time. */
export interface LabelInput {
  line: number;
  requestId: string | null;
  instance: number | null;
  keys: Record<string, string | number>;
  time: Date | null;
  label: 0 | 1;
}

const RESERVED = new Set(['request_id', 'instance', 'time', 'label']);
const rowSchema = z.looseObject({
  request_id: z.string().min(1).max(128).optional(),
  instance: z.number().int().min(0).optional(),
  time: z.string().optional(),
  label: z.union([z.literal(0), z.literal(1), z.boolean()], { error: 'label must be 0, 1, true or false' }),
});

/**
 * Read a labels file (JSON lines, or a JSON array) and check every row; any bad row refuses the whole file, naming
 * the lines, so nothing is half-ingested. Rows without request_id need `time` and the join keys of the model's
 * features (e.g. origin, destination).
 */
export async function readLabelsFile(path: string, plan: ViewPlan[]): Promise<LabelInput[]> {
  const text = await readFile(path, 'utf8').catch((err: Error) => { throw new ValidationError(`cannot read --file ${path}: ${err.message}`, { hint: 'give a JSON-lines file of {"request_id", "label"} or {<keys>, "time", "label"}' }); });
  let raw: unknown[];
  const t = text.trim();
  try {
    raw = t.startsWith('[') ? JSON.parse(t) as unknown[] : t.split('\n').map((l) => (l.trim() ? JSON.parse(l) as unknown : undefined)).filter((x) => x !== undefined);
  } catch (err) {
    throw new ValidationError(`${path} is not JSON lines or a JSON array: ${(err as Error).message}`, { hint: 'one JSON object per line' });
  }
  const errors: string[] = [];
  const out: LabelInput[] = [];
  raw.forEach((r, i) => {
    const line = i + 1;
    const p = rowSchema.safeParse(r);
    if (!p.success) { errors.push(`line ${line}: ${p.error.issues.map((x) => (x.path.length === 0 || x.message.startsWith(String(x.path[0])) ? x.message : `${x.path.join('.')} ${x.message}`)).join('; ')}`); return; }
    const v = p.data;
    const label = v.label === true || v.label === 1 ? 1 : 0;
    let time: Date | null = null;
    if (v.time !== undefined) {
      const ti = parseInstant(v.time);
      if (!ti.ok) { errors.push(`line ${line}: time ${ti.reason}`); return; }
      time = ti.date;
    }
    if (v.request_id) { out.push({ line, requestId: v.request_id, instance: v.instance ?? null, keys: {}, time, label }); return; }
    const fields = Object.fromEntries(Object.entries(v).filter(([k]) => !RESERVED.has(k)));
    const { keys, missing } = resolveKeys(plan, fields);
    if (plan.length === 0) { errors.push(`line ${line}: no request_id, and this model has no entity keys to join by`); return; }
    if (missing.size > 0 || time === null) {
      errors.push(`line ${line}: without request_id a label needs ${[...[...missing.values()].flat(), ...(time === null ? ['time'] : [])].join(', ')}`);
      return;
    }
    out.push({ line, requestId: null, instance: null, keys, time, label });
  });
  if (errors.length > 0) {
    throw new ValidationError(`${path}: ${errors.length} bad label rows, nothing ingested:\n  ${errors.slice(0, 10).join('\n  ')}${errors.length > 10 ? `\n  … and ${errors.length - 10} more` : ''}`, {
      hint: 'each row: {"request_id": "...", "instance": 0, "label": 1} or {"origin": "ORD", "destination": "LAX", "time": "2001-04-10T18:00:00Z", "label": 0}',
    });
  }
  return out;
}

export interface IngestResult {
  read: number;
  /** Serving-log predictions that received a label (a request-id row may label several instances). */
  labelled: number;
  /** File lines that matched no prediction (unknown request id, or no prediction for the entity in the window). */
  unmatchedLines: number[];
}

const stagedColumns: ColumnSchema[] = [
  { name: 'lrow', type: 'INT64' }, { name: 'request_id', type: 'STRING' }, { name: 'instance_index', type: 'INT64' },
  { name: 'entity_key', type: 'STRING' }, { name: 'label_time', type: 'TIMESTAMP' },
];

/**
 * Join labels to the serving log of `model` — by request id (and instance), or by entity: the latest prediction for
 * the same join keys made at most `windowSeconds` before the label's time — and upsert them into
 * `_serving_labels`. Ingesting the same file again changes nothing; a newer file's label for an instance replaces the
 * older one. Failed predictions (no score) are never labelled.
 */
export async function ingestLabels(w: Warehouse, model: string, labels: LabelInput[], opts: { windowSeconds?: number; now?: Date } = {}): Promise<IngestResult> {
  await ensureServingLogTable(w);
  if (!(await w.getTable(SERVING_LABELS_TABLE))) await w.createTable(labelsTable);
  const d = w.dialect;
  const window = Math.max(1, Math.floor(opts.windowSeconds ?? 86_400));
  const staged: Row[] = labels.map((l, i) => ({ lrow: i, request_id: l.requestId, instance_index: l.instance, entity_key: l.requestId ? null : entityKeyOf(l.keys), label_time: l.time }));
  const L = d.table(SERVING_LOG_TABLE);
  const matches = labels.length === 0 ? [] : await w.withRows(stagedColumns, staged, (rel) => w.query(
    `SELECT l.lrow AS lrow, s.request_id AS request_id, s.instance_index AS instance_index
     FROM ${rel.sql} AS l JOIN ${L} AS s ON s.request_id = l.request_id
     WHERE s.model = ${d.param('model')} AND l.request_id IS NOT NULL AND s.prediction IS NOT NULL
       AND (l.instance_index IS NULL OR s.instance_index = l.instance_index)
     UNION ALL
     SELECT m.lrow, m.request_id, m.instance_index FROM (
       SELECT l.lrow AS lrow, s.request_id AS request_id, s.instance_index AS instance_index,
         ROW_NUMBER() OVER (PARTITION BY l.lrow ORDER BY s.logged_at DESC, s.request_id DESC, s.instance_index DESC) AS rn
       FROM ${rel.sql} AS l JOIN ${L} AS s ON s.entity_key = l.entity_key
       WHERE s.model = ${d.param('model')} AND l.request_id IS NULL AND s.prediction IS NOT NULL
         AND s.logged_at <= l.label_time AND s.logged_at > l.label_time - INTERVAL ${window} SECOND
     ) AS m WHERE m.rn = 1`,
    { params: { ...rel.params, model: { type: 'STRING', value: model } } },
  ));
  // One label per instance: the last line of the file that names it wins.
  const byInstance = new Map<string, Row>();
  const matched = new Set<number>();
  const now = opts.now ?? new Date();
  for (const m of [...matches].sort((a, b) => Number(a.lrow) - Number(b.lrow))) {
    const l = labels[Number(m.lrow)]!;
    matched.add(Number(m.lrow));
    byInstance.set(JSON.stringify([m.request_id, Number(m.instance_index)]), {
      request_id: String(m.request_id), instance_index: Number(m.instance_index), model, label: l.label, label_time: l.time, ingested_at: now,
    });
  }
  const rows = [...byInstance.values()];
  if (rows.length > 0) {
    await w.withRows(labelColumns, rows, (rel) => w.execute(
      `MERGE INTO ${d.table(SERVING_LABELS_TABLE)} AS t USING ${rel.sql} AS s
       ON t.request_id = s.request_id AND t.instance_index = s.instance_index
       WHEN MATCHED THEN UPDATE SET label = s.label, label_time = s.label_time, ingested_at = s.ingested_at
       WHEN NOT MATCHED THEN INSERT (request_id, instance_index, model, label, label_time, ingested_at)
         VALUES (s.request_id, s.instance_index, s.model, s.label, s.label_time, s.ingested_at)`,
      { params: rel.params },
    ));
  }
  return { read: labels.length, labelled: rows.length, unmatchedLines: labels.filter((_, i) => !matched.has(i)).map((l) => l.line) };
}
