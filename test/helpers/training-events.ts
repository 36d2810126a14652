import { catalog, createEvent, parseEventOf, type EventOf } from '../../shared/events/catalog.js';
import type { Runtime } from '../../shared/runtime/runtime.js';

/** Collects every training.completed event published on the runtime's bus. */
export async function collectCompletions(rt: Runtime): Promise<{ events: EventOf<'trainingCompleted'>[]; close(): Promise<void> }> {
  const events: EventOf<'trainingCompleted'>[] = [];
  const sub = await rt.bus.subscribe(
    { name: `test-completions-${Math.random().toString(36).slice(2)}`, topic: catalog.trainingCompleted.topic, types: [catalog.trainingCompleted.type] },
    async (e) => {
      events.push(parseEventOf('trainingCompleted', e));
    },
  );
  return { events, close: () => sub.close() };
}

export function trainingRequest(opts: { model?: string; key: string; id?: string; end?: string }): EventOf<'trainingRequested'> {
  return createEvent('trainingRequested', {
    model: opts.model ?? 'flight_delay', reason: 'manual', dedupKey: opts.key,
    ...(opts.end ? { trainingWindow: { start: '2001-01-01T00:00:00Z', end: opts.end } } : {}),
  }, { source: 'test', ...(opts.id ? { id: opts.id } : {}) });
}
