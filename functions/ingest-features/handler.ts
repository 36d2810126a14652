import { ingestRows } from '../../shared/features/ingest.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * ingest-features: a batch of rows for one view. The event id is the dedup source, so a redelivered event has
 * exactly-once effect; the event's publish time is the created time for views without a created-time column.
 */
export const ingestFeaturesHandler: EventHandler<'featureRows'> = async (event, rt) => {
  const res = await ingestRows(rt, { view: event.data.view, sourceId: event.id, rows: event.data.rows, createdAt: new Date(event.time) });
  log(res.quarantined > 0 ? 'warning' : 'info', 'feature rows ingested', { eventId: event.id, correlationId: event.correlationId, ...res });
};
