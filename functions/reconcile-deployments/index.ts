import * as ff from '@google-cloud/functions-framework';
import { functionSpec } from '../../shared/topology/functions.js';
import { cloudEventFunction } from '../../shared/runtime/cloud-event.js';
import { processRuntime } from '../../shared/runtime/runtime.js';
import { reconcileDeploymentsHandler } from './handler.js';

const spec = functionSpec('reconcile-deployments');
export const reconcileDeployments = cloudEventFunction(spec.name, spec.trigger as 'deploymentCheckRequested', reconcileDeploymentsHandler, processRuntime, { timeoutSeconds: spec.timeoutSeconds });
ff.cloudEvent(spec.entryPoint, reconcileDeployments);
