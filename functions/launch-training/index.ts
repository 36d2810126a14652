import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { launchTrainingHandler } from './handler.js';

const spec = functionSpec('launch-training');
export const launchTraining = cloudEventFunction(spec.name, spec.trigger as 'trainingRequested', launchTrainingHandler, processRuntime);
ff.cloudEvent(spec.entryPoint, launchTraining);
