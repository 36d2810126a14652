import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * One envelope for every message of the loop. `correlationId` is shared by everything that follows from one root
 * cause (e.g. a drift check → report → training → evaluation → deploy); `causationId` is the id of the event that
 * directly caused this one (null for a root), so any result can be traced back step by step.
 */
export const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().regex(/^ctloop\.[a-z_.]+\.v\d+$/, 'type must look like ctloop.<name>.v<N>'),
  time: z.iso.datetime({ offset: true }),
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
