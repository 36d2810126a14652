import { loadFeatureFile } from '../../shared/features/load-file.js';
import type { EventHandler } from '../../shared/runtime/cloud-event.js';
import { log } from '../../shared/runtime/log.js';

/** load-feature-file: a file of rows is ready; load it with the same validation and dedup as streamed rows. */
export const loadFeatureFileHandler: EventHandler<'featureFileReady'> = async (event, rt, ctx) => {
  const res = await loadFeatureFile({ ...rt, scratchBucket: rt.config.artifactBucket, signal: ctx.signal }, { view: event.data.view, uri: event.data.uri, ...(event.data.format ? { format: event.data.format } : {}) });
  log(res.quarantined > 0 ? 'warning' : 'info', 'feature file loaded', { eventId: event.id, correlationId: event.correlationId, uri: event.data.uri, ...res });
};
