import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { deployModelHandler } from './handler.js';

const spec = functionSpec('deploy-model');
export const deployModel = cloudEventFunction(spec.name, spec.trigger as 'modelEvaluated', deployModelHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, deployModel);
