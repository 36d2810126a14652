import type { EventName } from '../shared/events/catalog.js';
import type { EventHandler } from '../shared/runtime/cloud-event.js';
import { deployModelHandler } from './deploy-model/handler.js';
import { compactFeaturesHandler } from './compact-features/handler.js';
import { detectDriftHandler } from './detect-drift/handler.js';
import { evaluateModelHandler } from './evaluate-model/handler.js';
import { ingestFeaturesHandler } from './ingest-features/handler.js';
import { launchTrainingHandler } from './launch-training/handler.js';
import { loadFeatureFileHandler } from './load-feature-file/handler.js';
import { reconcileDeploymentsHandler } from './reconcile-deployments/handler.js';

/**
 * Core handler of every function, by function name (the same names as shared/topology/functions.ts). The local
 * loop subscribes these to the in-process bus; on GCP each function's index.ts wraps its handler for
 * functions-framework. A test checks this map and the registry list the same functions.
 */
export const handlers: Record<string, EventHandler<EventName>> = {
  'ingest-features': ingestFeaturesHandler as EventHandler<EventName>,
  'load-feature-file': loadFeatureFileHandler as EventHandler<EventName>,
  'compact-features': compactFeaturesHandler as EventHandler<EventName>,
  'detect-drift': detectDriftHandler as EventHandler<EventName>,
  'evaluate-model': evaluateModelHandler as EventHandler<EventName>,
  'launch-training': launchTrainingHandler as EventHandler<EventName>,
  'deploy-model': deployModelHandler as EventHandler<EventName>,
  'reconcile-deployments': reconcileDeploymentsHandler as EventHandler<EventName>,
};
