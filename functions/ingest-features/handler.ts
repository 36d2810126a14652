import { groupCommitFor } from '../../shared/features/group-commit.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * ingest-features: a batch of rows for one view. The event id is the dedup source, so a redelivered event has
 * exactly-once effect; the event's publish time is the created time for views without a created-time column.
 * Events handled at the same time in this process are written together (group commit); each is acknowledged only
 * after the write that holds its rows has committed.
 */
export const ingestFeaturesHandler: EventHandler<'featureRows'> = async (event, rt) => {
  // Only the ids outlive the wait for the group's write: the event and its raw rows can be collected meanwhile
  // (thousands of events wait at once; what each keeps alive is copied by every young-generation GC).
  const { id: eventId, correlationId } = event;
  const res = await groupCommitFor(rt).ingest({ view: event.data.view, sourceId: eventId, rows: event.data.rows, createdAt: new Date(event.time) });
  log(res.quarantined > 0 ? 'warning' : 'info', 'feature rows ingested', { eventId, correlationId, ...res });
};
