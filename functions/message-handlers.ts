import type { RawMessageHandler } from '../shared/runtime/local-scheduler.js';
import { completeTrainingHandler } from './launch-training/job-state.js';

/**
 * Core handler of every message function (shared/topology/message-functions.ts), by name: what `ctloop run` calls
 * in-process when a scheduler job sends a raw message to the function's topic (the training reconciler). On GCP the
 * same handler runs behind the function's entry point (functions/launch-training/index.ts: completeTraining).
 */
export const messageHandlers: Record<string, RawMessageHandler> = {
  'complete-training': completeTrainingHandler,
};
