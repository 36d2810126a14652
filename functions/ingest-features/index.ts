import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { ingestFeaturesHandler } from './handler.js';

const spec = functionSpec('ingest-features');
export const ingestFeatures = cloudEventFunction(spec.name, spec.trigger as 'featureRows', ingestFeaturesHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, ingestFeatures);
