import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/config.js';
import { ConfigError } from '../../../shared/errors.js';

describe('model registry configuration', () => {
  it('is embedded by default and Vertex AI in gcp mode, with an optional API endpoint', () => {
    expect(loadConfig({}, '/w').modelRegistry).toEqual({ kind: 'embedded' });
    expect(loadConfig({ CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-1', CTLOOP_ARTIFACT_BUCKET: 'b-1', CTLOOP_REGION: 'europe-west4' }, '/w').modelRegistry)
      .toEqual({ kind: 'vertex', project: 'my-proj-1', region: 'europe-west4' });
    expect(loadConfig({ CTLOOP_MODEL_REGISTRY: 'vertex', CTLOOP_VERTEX_API_ENDPOINT: '127.0.0.1:9999' }, '/w').modelRegistry)
      .toEqual({ kind: 'vertex', project: 'ctloop-local', region: 'us-central1', apiEndpoint: '127.0.0.1:9999' });
  });

  it('names the variable when the choice is invalid', () => {
    expect(() => loadConfig({ CTLOOP_MODEL_REGISTRY: 'mlflow' }, '/w')).toThrow(ConfigError);
    expect(() => loadConfig({ CTLOOP_MODEL_REGISTRY: 'mlflow' }, '/w')).toThrow(/CTLOOP_MODEL_REGISTRY="mlflow" is invalid/);
  });
});
