import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeliveryConfig } from '../../shared/delivery/config.js';
import { catalog } from '../../shared/events/catalog.js';
import { loadConfig } from '../../shared/config/config.js';
import { functionSpec } from '../../shared/topology/functions.js';
import type { Topology } from '../../shared/topology/generate.js';
import { envelopeFromDataOnlyMessage } from '../../shared/topology/scheduler-message.js';
import { blocksIn, GENERATED, MODULES } from './helpers.js';

/** Terraform and topology of delivery: the Vertex AI endpoint, its request-response log, its callers, the deploy functions. */
const checkedIn = JSON.parse(readFileSync(join(GENERATED, 'topology.auto.tfvars.json'), 'utf8')) as Topology;

describe('Vertex AI endpoint infrastructure', () => {
  it('the endpoint logs requests and responses to BigQuery, in a dataset Terraform owns, with a table Vertex AI creates', async () => {
    const r = await blocksIn(join(MODULES, 'vertex_ai'), 'resource');
    const cfg = r.google_vertex_ai_endpoint.this[0].predict_request_response_logging_config[0];
    expect(cfg.enabled).toBe(true);
    expect(cfg.sampling_rate).toBe('${var.request_log_sampling_rate}');
    expect(cfg.bigquery_destination[0].output_uri).toBe('bq://${var.project_id}.${google_bigquery_dataset.request_log.dataset_id}.${var.request_log_table}');
    // Vertex AI requires that a named log table does not exist yet: no Terraform table in this module.
    expect(r.google_bigquery_table).toBeUndefined();
    expect(r.google_vertex_ai_endpoint.this[0].depends_on).toEqual(['${google_bigquery_dataset_iam_member.request_log_writer}']);
  });

  it("only Vertex AI's service agent may write the request log, on that dataset alone", async () => {
    const r = await blocksIn(join(MODULES, 'vertex_ai'), 'resource');
    const w = r.google_bigquery_dataset_iam_member.request_log_writer[0];
    expect(w).toMatchObject({ dataset_id: '${google_bigquery_dataset.request_log.dataset_id}', role: 'roles/bigquery.dataEditor', member: 'serviceAccount:${var.vertex_service_agent}' });
    const platform = await blocksIn(join(MODULES, 'platform'), 'locals');
    expect(JSON.stringify(platform)).toContain('@gcp-sa-aiplatform.iam.gserviceaccount.com');
  });

  it('callers get a custom role that can only predict, granted to named members; public members are refused', async () => {
    const r = await blocksIn(join(MODULES, 'vertex_ai'), 'resource');
    expect(r.google_project_iam_custom_role.endpoint_invoker[0].permissions).toEqual(['aiplatform.endpoints.predict']);
    const grant = r.google_project_iam_member.endpoint_invoker[0];
    expect(grant).toMatchObject({ for_each: '${toset(var.endpoint_invokers)}', role: '${google_project_iam_custom_role.endpoint_invoker.id}', member: '${each.value}' });
    const v = (await blocksIn(join(MODULES, 'vertex_ai'), 'variable')).endpoint_invokers[0];
    expect(v.default).toEqual([]);
    const pattern = /regex\("(.+)", m\)/.exec(v.validation[0].condition as string)![1]!.replace(/\\\\/g, '\\');
    const ok = (m: string) => new RegExp(pattern).test(m);
    expect(ok('serviceAccount:app@proj.iam.gserviceaccount.com')).toBe(true);
    expect(ok('group:oncall@example.com')).toBe(true);
    for (const bad of ['allUsers', 'allAuthenticatedUsers', 'domain:example.com', 'serviceAccount:']) expect(ok(bad), bad).toBe(false);
  });

  it('the roots pass the invokers through the platform to the module', async () => {
    for (const env of ['dev', 'prod']) {
      const m = (await blocksIn(join(MODULES, '..', 'envs', env), 'module')).platform[0];
      expect(m.endpoint_invokers).toBe('${var.endpoint_invokers}');
    }
    const p = (await blocksIn(join(MODULES, 'platform'), 'module')).vertex_ai[0];
    expect(p).toMatchObject({ endpoint_invokers: '${var.endpoint_invokers}', vertex_service_agent: '${local.vertex_service_agent}' });
  });
});

describe('delivery functions and their timer', () => {
  it('deploy-model starts on model.evaluated, reconcile-deployments on the deployment check; both may deploy as the server account', () => {
    const deploy = checkedIn.functions['deploy-model']!;
    const reconcile = checkedIn.functions['reconcile-deployments']!;
    expect(deploy.trigger_topic).toBe(catalog.modelEvaluated.topic);
    expect(reconcile.trigger_topic).toBe(catalog.deploymentCheckRequested.topic);
    for (const f of [deploy, reconcile]) {
      expect(f.project_roles).toContain('roles/aiplatform.user');
      expect(f.act_as).toEqual(['server']);
    }
    expect(functionSpec('deploy-model').scaling!.reason.length).toBeGreaterThan(20);
  });

  it('a scheduler job sends the deployment check every minute as a valid event', () => {
    const job = checkedIn.scheduler_jobs['ctloop-deployment-checks']!;
    expect(job).toMatchObject({ schedule: '* * * * *', event: 'deploymentCheckRequested', topic: catalog.deploymentCheckRequested.topic });
    const env = envelopeFromDataOnlyMessage({ body: JSON.parse(job.data_json), attributes: job.attributes, messageId: '9', publishTime: '2026-01-01T00:01:00Z' });
    expect(env.type).toBe('ctloop.deployment.check_requested.v1');
  });

  it("functions read the endpoint from Terraform's output (a full resource name) as its id", () => {
    const base = loadConfig({ CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: '/tmp/x' } as NodeJS.ProcessEnv);
    const c = loadDeliveryConfig(base, { CTLOOP_ENDPOINT: 'vertex', CTLOOP_VERTEX_ENDPOINT: 'projects/p/locations/us-central1/endpoints/4242' });
    expect(c.endpoint).toMatchObject({ kind: 'vertex', endpointId: '4242' });
    expect(() => loadDeliveryConfig(base, { CTLOOP_ENDPOINT: 'vertex' })).toThrow(/CTLOOP_VERTEX_ENDPOINT is required/);
    expect(() => loadDeliveryConfig(base, { CTLOOP_CANARY_PERCENT: '0' })).toThrow(/CTLOOP_CANARY_PERCENT="0" is invalid/);
  });
});
