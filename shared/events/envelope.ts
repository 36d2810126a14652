import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseInstant } from '../time.js';

/**
 * An RFC 3339 date-time with seconds and an offset, checked by ctloop's one strict parser (shared/time.ts): an
 * impossible date (2001-02-30), T24:00, a leap second, an offset beyond ±23:59 or a year outside 0001–9999 is
 * refused rather than rolled over by JavaScript's Date.
 */
export const eventTime = z.string().superRefine((s, ctx) => {
  const r = parseInstant(s, 'rfc3339');
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s)}: ${r.reason}` });
}).meta({ format: 'date-time', description: 'RFC 3339 date-time with seconds and an offset, e.g. 2001-03-01T08:00:00Z' });

/** The instant of an event time, or null when it is not a valid one (eventTime reports why). */
export function eventInstant(s: string): Date | null {
  const r = parseInstant(s, 'rfc3339');
  return r.ok ? r.date : null;
}

/**
 * One envelope for every message of the loop. `correlationId` is shared by everything that follows from one root
 * cause (e.g. a drift check → report → training → evaluation → deploy); `causationId` is the id of the event that
 * directly caused this one (null for a root), so any result can be traced back step by step.
 */
export const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().regex(/^ctloop\.[a-z_.]+\.v\d+$/, 'type must look like ctloop.<name>.v<N>'),
  time: eventTime,
  source: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  data: z.unknown(),
});

export type Envelope<D = unknown> = Omit<z.infer<typeof envelopeSchema>, 'data'> & { data: D };

export interface EnvelopeOptions {
  source: string;
  /** The event that caused this one: its id becomes causationId and its correlationId is inherited. */
  causedBy?: Pick<Envelope, 'id' | 'correlationId'>;
  id?: string;
  time?: Date;
}

export function makeEnvelope<D>(type: string, data: D, opts: EnvelopeOptions): Envelope<D> {
  const id = opts.id ?? randomUUID();
  return {
    id,
    type,
    time: (opts.time ?? new Date()).toISOString(),
    source: opts.source,
    correlationId: opts.causedBy?.correlationId ?? id,
    causationId: opts.causedBy?.id ?? null,
    data,
  };
}
