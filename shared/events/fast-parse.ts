import type { EventName } from './catalog.js';
import type { Envelope } from './envelope.js';
import { eventInstant } from './envelope.js';

/**
 * Fast paths of the catalog's zod schemas for the messages that arrive by the thousand per second (feature rows).
 * Each returns exactly what zod's parse returns for an input it can decide alone — a new object with the schema's
 * keys in the schema's order, unknown keys dropped, arrays copied — and undefined for anything else, which then
 * goes through zod (so every refusal keeps zod's reasons). Zod stays the definition: a test runs both on the same
 * inputs and compares.
 */

const TYPE_RE = /^ctloop\.[a-z_.]+\.v\d+$/;
const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `envelopeSchema.parse(raw)` for a valid envelope whose data is present; undefined otherwise. */
export function fastEnvelope(raw: unknown): Envelope | undefined {
  if (!isRecord(raw) || !Object.hasOwn(raw, 'data')) return undefined;
  const { id, type, time, source, correlationId, causationId } = raw;
  if (!nonEmpty(id) || typeof type !== 'string' || !TYPE_RE.test(type) || typeof time !== 'string' || eventInstant(time) === null) return undefined;
  if (!nonEmpty(source) || !nonEmpty(correlationId) || !(causationId === null || nonEmpty(causationId))) return undefined;
  return { id, type, time, source, correlationId, causationId, data: raw.data };
}

/** `featureRowsData.parse(data)` for valid feature-row data; undefined otherwise. */
function fastFeatureRows(data: unknown): { view: string; rows: unknown[] } | undefined {
  if (!isRecord(data)) return undefined;
  const { view, rows } = data;
  if (typeof view !== 'string' || !IDENTIFIER_RE.test(view) || !Array.isArray(rows) || rows.length < 1 || rows.length > 10_000) return undefined;
  const copy = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) copy[i] = rows[i];
  return { view, rows: copy };
}

/** The fast path of an event's data schema, where it has one. */
export const fastData: Partial<Record<EventName, (data: unknown) => unknown>> = {
  featureRows: fastFeatureRows,
};
