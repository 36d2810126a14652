import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseFeatureRepo } from '../../shared/features/definitions.js';
import { parseModels } from '../../shared/models/config.js';
import { splitWindows } from '../../shared/training/windows.js';

const root = new URL('../..', import.meta.url).pathname;
const repo = parseFeatureRepo(parse(readFileSync(`${root}features.yaml`, 'utf8')));
const base = () => parse(readFileSync(`${root}models.yaml`, 'utf8')) as { models: Record<string, unknown>[] };
const withModel = (patch: (m: Record<string, unknown>) => void) => {
  const raw = base();
  patch(raw.models[0]!);
  return raw;
};

describe('models.yaml', () => {
  it('the repository file is valid against features.yaml, with durations in seconds and defaults filled', () => {
    const m = parseModels(base(), root, repo).model('flight_delay');
    expect(m).toMatchObject({ featureService: 'delay_model', spine: { view: 'flights', label: 'delayed', keys: { airport: 'origin' } }, slices: ['origin'], minSliceSize: 200 });
    expect(m.split).toEqual({ train: 90 * 86_400, validation: 14 * 86_400, test: 30 * 86_400 });
    expect(m.trainer).toMatchObject({ machineType: 'n1-standard-4', timeoutSeconds: 1800 });
  });

  it.each([
    ['a misspelt key names the closest one', (m: Record<string, unknown>) => { m.featureServce = m.featureService; delete m.featureService; }, /unknown key "featureServce" \(did you mean "featureService"\?\)/],
    ['a misspelt trainer key', (m: Record<string, unknown>) => { (m.trainer as Record<string, unknown>).machinType = 'n1'; }, /unknown key "machinType" \(did you mean "machineType"\?\)/],
    ['a bad duration', (m: Record<string, unknown>) => { (m.split as Record<string, unknown>).test = '30 days'; }, /duration must look like 30s, 15m, 6h, 90d or 2w/],
    ['an unknown spine view', (m: Record<string, unknown>) => { (m.spine as Record<string, unknown>).view = 'flight'; }, /spine view "flight" is not a feature view \(did you mean "flights"\?\)/],
    ['an unknown label', (m: Record<string, unknown>) => { (m.spine as Record<string, unknown>).label = 'delay'; }, /label "delay" is not a column of view flights \(did you mean "delayed"\?\)/],
    ['an unknown feature service', (m: Record<string, unknown>) => { m.featureService = 'delay_models'; }, /feature service "delay_models" is not defined \(did you mean "delay_model"\?\)/],
    ['an empty command', (m: Record<string, unknown>) => { (m.trainer as Record<string, unknown>).command = []; }, /command/],
  ])('%s', (_name, patch, message) => {
    expect(() => parseModels(withModel(patch), root, repo, 'models.yaml')).toThrow(message);
  });

  it('an unknown model is refused with the closest name', () => {
    expect(() => parseModels(base(), root, repo).model('flight_dely')).toThrow(/model "flight_dely" is not defined in models \(did you mean "flight_delay"\?\)/);
  });

  it('split windows end at the request, consecutive and disjoint: train, validation, test', () => {
    const w = splitWindows({ train: 90 * 86_400, validation: 14 * 86_400, test: 30 * 86_400 }, new Date('2001-07-01T00:00:00Z'));
    expect(w.test).toEqual({ start: new Date('2001-06-01T00:00:00Z'), end: new Date('2001-07-01T00:00:00Z') });
    expect(w.validation).toEqual({ start: new Date('2001-05-18T00:00:00Z'), end: new Date('2001-06-01T00:00:00Z') });
    expect(w.train).toEqual({ start: new Date('2001-02-17T00:00:00Z'), end: new Date('2001-05-18T00:00:00Z') });
  });
});
