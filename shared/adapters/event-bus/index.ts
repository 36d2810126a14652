import type { EventBusConfig } from '../../config/config.js';
import type { DeadLetterReader, EventBus, RetryPolicy } from '../../ports/event-bus.js';
import { MemoryEventBus } from './memory/memory-bus.js';
import { PubsubEventBus } from './pubsub/pubsub-bus.js';

export { MemoryEventBus } from './memory/memory-bus.js';
export { PubsubEventBus } from './pubsub/pubsub-bus.js';
export { ATTR } from './attributes.js';

/** The event bus chosen by configuration: in-process (embedded) or Pub/Sub (emulators, gcp). */
export function createEventBus(config: EventBusConfig, retry: RetryPolicy): EventBus & DeadLetterReader {
  switch (config.kind) {
    case 'memory':
      return new MemoryEventBus({ journalDir: config.journalDir, retry });
    case 'pubsub':
      return new PubsubEventBus({
        project: config.project,
        retry,
        ...(config.emulatorHost ? { emulatorHost: config.emulatorHost } : {}),
      });
  }
}
