import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { launchTrainingHandler } from './handler.js';
import { completeTrainingFunction } from './job-state.js';

const spec = functionSpec('launch-training');
export const launchTraining = cloudEventFunction(spec.name, spec.trigger as 'trainingRequested', launchTrainingHandler, processRuntime);
ff.cloudEvent(spec.entryPoint, launchTraining);

/** Entry point for the Vertex AI job-state subscription (log sink) and the reconcile schedule: see job-state.ts. */
export const completeTraining = completeTrainingFunction(processRuntime);
ff.cloudEvent('completeTraining', completeTraining);
