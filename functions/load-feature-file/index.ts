import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { loadFeatureFileHandler } from './handler.js';

const spec = functionSpec('load-feature-file');
export const loadFeatureFileFn = cloudEventFunction(spec.name, spec.trigger as 'featureFileReady', loadFeatureFileHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, loadFeatureFileFn);
