import { describe, expect, it } from 'vitest';
import { evaluatePredictions } from '../../../shared/evaluation/evaluate.js';
import { evaluationSpecSchema } from '../../../shared/evaluation/gate-spec.js';
import { parsePredictions } from '../../../shared/evaluation/predictions.js';

/** A predictions file where candidate and champion score each origin with a chosen quality. */
function predictions(rows: { origin: string; n: number; candidateGood: boolean; championGood: boolean }[], withBaseline = true): string {
  const lines = [`row_id,label,score${withBaseline ? ',baseline_score' : ''},origin`];
  let id = 0;
  for (const r of rows) {
    for (let i = 0; i < r.n; i++) {
      const y = i % 3 === 0 ? 1 : 0;
      // good: separates the classes (AUC 1); bad: no better than chance (every row 0.3, AUC 0.5)
      const score = (good: boolean) => (good ? (y ? 0.8 : 0.1) : 0.3);
      lines.push(`r${id++},${y},${score(r.candidateGood)}${withBaseline ? `,${score(r.championGood)}` : ''},${r.origin}`);
    }
  }
  return lines.join('\n');
}

const spec = evaluationSpecSchema.parse({
  slices: ['origin'], minSliceSize: 30,
  gate: {
    thresholds: { auc: { min: 0.55 }, log_loss: { max: 2 } },
    regression: { auc: { maxDrop: 0.01 }, log_loss: { maxRelativeIncrease: 0.02 } },
    requiredSlices: [{ origin: 'SFO' }],
  },
});

describe('evaluation gate', () => {
  it('refuses a candidate worse than the champion on a required slice, and says why', () => {
    const p = parsePredictions(predictions([
      { origin: 'LAX', n: 600, candidateGood: true, championGood: true },
      { origin: 'SFO', n: 60, candidateGood: false, championGood: true },
    ]), ['origin']);
    const r = evaluatePredictions(p, spec, 'v1');
    expect(r.blessed).toBe(false);
    // overall the candidate still clears the absolute thresholds
    expect(r.checks.filter((c) => c.check.startsWith('threshold.')).every((c) => c.status === 'passed')).toBe(true);
    const failedOnSfo = r.failedChecks.filter((c) => c.slice === 'origin=SFO');
    expect(failedOnSfo.map((c) => c.check).sort()).toEqual(['regression.auc', 'regression.log_loss']);
    const aucCheck = failedOnSfo.find((c) => c.check === 'regression.auc')!;
    expect(aucCheck).toMatchObject({ candidate: 0.5, champion: 1, limit: 0.99 });
    expect(aucCheck.detail).toBe('candidate auc 0.5 on slice origin=SFO regresses beyond the allowed minimum 0.99 (champion 1 - maxDrop 0.01)');
  });

  it('blesses a first model with no champion on absolute checks alone, listing regression checks as skipped', () => {
    const p = parsePredictions(predictions([
      { origin: 'LAX', n: 600, candidateGood: true, championGood: true },
      { origin: 'SFO', n: 60, candidateGood: false, championGood: true },
    ], false), ['origin']);
    const r = evaluatePredictions(p, spec, null);
    expect(r.blessed).toBe(true);
    expect(r.overall.champion).toBeNull();
    const skipped = r.checks.filter((c) => c.status === 'skipped');
    expect(skipped.map((c) => `${c.check}@${c.slice ?? 'overall'}`).sort()).toEqual([
      'regression.auc@origin=SFO', 'regression.auc@overall', 'regression.log_loss@origin=SFO', 'regression.log_loss@overall',
    ]);
    expect(skipped[0]!.detail).toMatch(/no champion/);
    expect(r.checks.find((c) => c.check === 'required_slice')!.status).toBe('passed');
  });

  it('fails an absolute threshold with its reason', () => {
    const p = parsePredictions(predictions([{ origin: 'SFO', n: 90, candidateGood: false, championGood: false }], false), ['origin']);
    const r = evaluatePredictions(p, spec, null);
    expect(r.blessed).toBe(false);
    expect(r.failedChecks.map((c) => c.check)).toEqual(['threshold.auc.min']);
    expect(r.failedChecks[0]!.detail).toBe('candidate auc 0.5 is not >= 0.55');
  });

  it('fails when a required slice is missing or below minSliceSize', () => {
    const p = parsePredictions(predictions([
      { origin: 'LAX', n: 600, candidateGood: true, championGood: true },
      { origin: 'SFO', n: 12, candidateGood: true, championGood: true },
    ]), ['origin']);
    const r = evaluatePredictions(p, spec, 'v1');
    expect(r.blessed).toBe(false);
    const req = r.failedChecks.find((c) => c.check === 'required_slice')!;
    expect(req.detail).toBe('required slice origin=SFO has 12 rows in the test split; at least 30 are needed (minSliceSize)');
    expect(r.slices.find((s) => s.key === 'origin=SFO')).toMatchObject({ rows: 12, evaluated: false });
  });

  it('fails when a champion exists but was not scored', () => {
    const p = parsePredictions(predictions([{ origin: 'SFO', n: 90, candidateGood: true, championGood: true }], false), ['origin']);
    const r = evaluatePredictions(p, spec, 'v3');
    expect(r.blessed).toBe(false);
    expect(r.failedChecks.map((c) => c.check)).toContain('champion_scored');
  });

  it('passes a regression within a relative slack and fails one beyond it', () => {
    const lossSpec = evaluationSpecSchema.parse({ gate: { regression: { log_loss: { maxRelativeIncrease: 0.1 } } } });
    const file = (cand: number) => ['row_id,label,score,baseline_score', `a,1,${cand},0.8`, `b,0,${1 - cand},0.2`].join('\n');
    // champion log loss = -ln 0.8 = 0.2231; limit 0.2455 = -ln 0.7824
    expect(evaluatePredictions(parsePredictions(file(0.79), []), lossSpec, 'v1').blessed).toBe(true);
    const bad = evaluatePredictions(parsePredictions(file(0.77), []), lossSpec, 'v1');
    expect(bad.blessed).toBe(false);
    expect(bad.failedChecks[0]!.detail).toMatch(/regresses beyond the allowed maximum 0\.245\d+ \(champion 0\.223\d+ \+ 10%\)/);
  });
});

describe('gate spec', () => {
  it('names the closest key or metric for typos and rejects slack in the wrong direction', () => {
    const err = (v: unknown) => {
      const r = evaluationSpecSchema.safeParse(v);
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    expect(err({ gate: { treshold: {} } })).toMatch(/unknown key "treshold" \(did you mean "thresholds"\?\)/);
    expect(err({ gate: { thresholds: { acu: { min: 0.5 } } } })).toMatch(/unknown metric "acu" \(did you mean "auc"\?\)/);
    expect(err({ gate: { regression: { auc: { maxIncrease: 0.1 } } } })).toMatch(/auc is higher-is-better: use maxDrop or maxRelativeDrop/);
    expect(err({ gate: { regression: { auc: { maxDrop: 0.1, maxRelativeDrop: 0.1 } } } })).toMatch(/exactly one/);
    expect(err({ slices: ['dest'], gate: { requiredSlices: [{ origin: 'SFO' }] } })).toMatch(/required slice column "origin" is not in slices/);
    expect(err({ slices: ['month'], gate: { requiredSlices: [{ month: 4 }] } })).toBe('');
  });
});

describe('predictions.csv', () => {
  it('rejects bad rows by line rather than dropping them', () => {
    const text = ['row_id,label,score,origin', 'a,1,0.5,SFO', 'b,2,0.5,SFO', 'a,0,0.1,SFO', 'c,0,1.5,SFO'].join('\n');
    expect(() => parsePredictions(text, ['origin'])).toThrow(/line 3: label "2" is not 0 or 1; line 4: row_id a appears twice; line 5: score "1.5" is not a probability/);
    expect(() => parsePredictions('row_id,label,scor\na,1,0.5', [])).toThrow(/no column "score" \(did you mean "scor"\?\)/);
    expect(() => parsePredictions('row_id,label,score\na,1,0.5', ['origin'])).toThrow(/no column "origin"/);
  });
});
