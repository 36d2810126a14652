import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { compactFeaturesHandler } from './handler.js';

const spec = functionSpec('compact-features');
export const compactFeatures = cloudEventFunction(spec.name, spec.trigger as 'featureCompactionRequested', compactFeaturesHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, compactFeatures);
