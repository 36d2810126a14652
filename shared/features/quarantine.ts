import { ValidationError } from '../errors.js';
import type { Params, Row, Warehouse } from '../ports/warehouse.js';
import { QUARANTINE_TABLE } from './tables.js';

/**
 * Reading the quarantine: rows that failed validation, stored by ingest (`prepareRows`) with the view, the source
 * they came in (an event id, or `<file uri>@<version>` for file loads), their index in it, the reasons and the raw row.
 * One query in the SQL both engines accept, filtered by view and time (BigQuery prunes partitions on the time).
 */

export interface QuarantineQuery {
  view?: string;
  /** Only rows quarantined at or after this instant. */
  since?: Date;
  /** At most this many rows (newest first). */
  limit: number;
}

export interface QuarantinedRow {
  view: string;
  /** Where the row came from: a file load or an event (a feature-rows message). */
  source: 'file' | 'event';
  /** The file's URI or path (file loads) or the event id. */
  sourceId: string;
  /** The version of the file that was loaded (file loads only). */
  version: string | null;
  /** Index of the row in its source, counted from 0 as `ctloop features ingest` reports it. */
  row: number | null;
  reasons: string[];
  /** The rejected row as it arrived (parsed JSON; the stored text when it is not JSON). */
  raw: unknown;
  quarantinedAt: string;
}

export interface QuarantineAnswer {
  /** Rows matching the filters, of which `rows` are the newest `limit`. */
  total: number;
  rows: QuarantinedRow[];
}

export const MAX_QUARANTINE_LIMIT = 10_000;

export async function readQuarantine(w: Warehouse, q: QuarantineQuery): Promise<QuarantineAnswer> {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > MAX_QUARANTINE_LIMIT) {
    throw new ValidationError(`limit must be a whole number from 1 to ${MAX_QUARANTINE_LIMIT}, got ${q.limit}`, { hint: `ask for at most ${MAX_QUARANTINE_LIMIT} rows; narrow the query by view or time` });
  }
  if (!(await w.getTable(QUARANTINE_TABLE))) return { total: 0, rows: [] };
  const d = w.dialect;
  const col = (n: string) => `q.${d.ident(n)}`;
  const params: Params = {};
  const where: string[] = [];
  if (q.view !== undefined) {
    params.view = { type: 'STRING', value: q.view };
    where.push(`${col('view')} = ${d.param('view')}`);
  }
  if (q.since !== undefined) {
    params.since = { type: 'TIMESTAMP', value: q.since };
    where.push(`${col('quarantined_at')} >= ${d.param('since')}`);
  }
  const from = `FROM ${d.table(QUARANTINE_TABLE)} AS q${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const [count] = await w.query(`SELECT COUNT(*) AS ${d.ident('n')} ${from}`, { params });
  const rows = await w.query(
    [
      `SELECT ${['view', 'ingest_id', 'event_id', 'reason', 'raw', 'quarantined_at'].map(col).join(', ')}`,
      from,
      // Newest first; within one source in row order (ids end in the row index: shorter ids are smaller indexes).
      `ORDER BY ${col('quarantined_at')} DESC, ${col('event_id')}, LENGTH(${col('ingest_id')}), ${col('ingest_id')}`,
      `LIMIT ${q.limit}`,
    ].join('\n'),
    { params },
  );
  return { total: Number(count?.n ?? 0), rows: rows.map(quarantinedRow) };
}

export function quarantinedRow(r: Row): QuarantinedRow {
  const sourceId = String(r.event_id);
  const ingestId = String(r.ingest_id);
  const file = fileSource(sourceId);
  const index = ingestId.startsWith(`${sourceId}:`) ? ingestId.slice(sourceId.length + 1) : '';
  return {
    view: String(r.view),
    source: file ? 'file' : 'event',
    sourceId: file ? file.uri : sourceId,
    version: file ? file.version : null,
    row: /^\d+$/.test(index) ? Number(index) : null,
    reasons: splitReasons(String(r.reason)),
    raw: parseRaw(String(r.raw)),
    quarantinedAt: (r.quarantined_at instanceof Date ? r.quarantined_at : new Date(String(r.quarantined_at))).toISOString(),
  };
}

/** File loads name their source `<uri or path>@<version>`; event ids carry no path. */
function fileSource(id: string): { uri: string; version: string } | null {
  const at = id.lastIndexOf('@');
  if (at <= 0 || at === id.length - 1) return null;
  const uri = id.slice(0, at);
  const pathLike = /^(gs:\/\/|\/|\.{1,2}\/|[A-Za-z]:[\\/])/.test(uri) || /\.(csv|jsonl|ndjson|json|parquet)$/i.test(uri);
  return pathLike ? { uri, version: id.slice(at + 1) } : null;
}

/** Ingest joins a row's reasons with "; ", each starting with the field it is about ("flights: expected INT64…"). */
export function splitReasons(reason: string): string[] {
  return reason.split(/; (?=[A-Za-z_][\w ]*: )/);
}

function parseRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
