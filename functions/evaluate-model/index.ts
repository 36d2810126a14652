import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { evaluateModelHandler } from './handler.js';

const spec = functionSpec('evaluate-model');
export const evaluateModel = cloudEventFunction(spec.name, spec.trigger as 'trainingCompleted', evaluateModelHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, evaluateModel);
