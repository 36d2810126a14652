import { ValidationError } from '../errors.js';
import type { Params, Row, Warehouse } from '../ports/warehouse.js';
import { QUARANTINE_TABLE } from './tables.js';

/**
 * Reading the quarantine: rows that failed validation, stored by ingest (`prepareRows`) with the view, the source
 * they came in (an event, or a file and its version), their place in it, the reasons and the raw row.
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
  /** Index of the row in its source (file or event), counted from 0. */
  row: number | null;
  /** Line of the file the row starts on (CSV, JSONL), when the load recorded it. */
  line: number | null;
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
  const { line, reasons } = positionOf(String(r.reason));
  return {
    view: String(r.view),
    ...sourceOf(String(r.event_id), String(r.ingest_id)),
    line,
    reasons,
    raw: parseRaw(String(r.raw)),
    quarantinedAt: (r.quarantined_at instanceof Date ? r.quarantined_at : new Date(String(r.quarantined_at))).toISOString(),
  };
}

/**
 * Where a quarantined row came from. The ingest id is `<source id>:<row index>`. File loads are keyed by content
 * (`file:<hash>`) and record the file's URI as `event_id`; earlier loads used `<uri>@<version>` as both.
 * Events use their event id for both.
 */
function sourceOf(eventId: string, ingestId: string): Pick<QuarantinedRow, 'source' | 'sourceId' | 'version' | 'row'> {
  const cut = ingestId.lastIndexOf(':');
  const prefix = cut < 0 ? ingestId : ingestId.slice(0, cut);
  const index = cut < 0 ? '' : ingestId.slice(cut + 1);
  const row = /^\d+$/.test(index) ? Number(index) : null;
  if (prefix.startsWith('file:') && prefix !== eventId) return { source: 'file', sourceId: eventId, version: prefix.slice('file:'.length), row };
  const legacy = prefix === eventId ? legacyFileSource(eventId) : null;
  if (legacy) return { source: 'file', sourceId: legacy.uri, version: legacy.version, row };
  return { source: 'event', sourceId: eventId, version: null, row };
}

/** Earlier file loads named their source `<uri or path>@<modification time>`; event ids carry no path. */
function legacyFileSource(id: string): { uri: string; version: string } | null {
  const at = id.lastIndexOf('@');
  if (at <= 0 || at === id.length - 1) return null;
  const uri = id.slice(0, at);
  const pathLike = /^(gs:\/\/|\/|\.{1,2}\/|[A-Za-z]:[\\/])/.test(uri) || /\.(csv|jsonl|ndjson|json|parquet)$/i.test(uri);
  return pathLike ? { uri, version: id.slice(at + 1) } : null;
}

/** File loads prefix the reason with the row's place in the file: `line 12: …` (CSV, JSONL) or `row 12: …` (Parquet). */
function positionOf(reason: string): { line: number | null; reasons: string[] } {
  const m = /^(line|row) (\d+): /.exec(reason);
  return { line: m?.[1] === 'line' ? Number(m[2]) : null, reasons: splitReasons(m ? reason.slice(m[0].length) : reason) };
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
