import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { detectDriftHandler } from './handler.js';

const spec = functionSpec('detect-drift');
export const detectDrift = cloudEventFunction(spec.name, spec.trigger as 'driftCheckRequested', detectDriftHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, detectDrift);
