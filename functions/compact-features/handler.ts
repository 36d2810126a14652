import { compactDay, offlineCompactTarget, parseDay, quarantineCompactTarget, yesterday } from '../../shared/features/compact.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/**
 * compact-features: one day (default: yesterday, UTC, from the trigger time) of one offline table or of the
 * quarantine loses the copies that at-least-once appends left (shared/features/compact.ts). Idempotent: a retry
 * finds no copies and runs no DML. An unknown view is permanent (dead-lettered); warehouse failures are retried.
 */
export const compactFeaturesHandler: EventHandler<'featureCompactionRequested'> = async (event, rt) => {
  const d = event.data;
  const target = d.view !== undefined ? offlineCompactTarget(rt.repo, d.view) : quarantineCompactTarget;
  const day = d.day !== undefined ? parseDay(d.day) : yesterday(new Date(event.time));
  const res = await compactDay(rt.warehouse, target, day);
  log('info', 'feature table compacted', { eventId: event.id, correlationId: event.correlationId, ...res, removed: res.before - res.after });
};
