import type { ReportData } from './data.js';

/**
 * One Vega-Lite spec per plot of the report. Data is named (`table`) and bound at embed time, so each plot's points
 * can be counted in the page (`view.data('table')`). A section with no data has no spec: the page shows `empty`.
 */
export interface PlotSection {
  id: string;
  title: string;
  description: string;
  /** Why there is nothing to plot, when there is nothing. */
  empty: string | null;
  spec: Record<string, unknown> | null;
  values: unknown[];
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { name: 'table' } } as const;

function section(id: string, title: string, description: string, values: unknown[] | null, emptyText: string, nullText: string, spec: Record<string, unknown>): PlotSection {
  if (values === null) return { id, title, description, empty: nullText, spec: null, values: [] };
  if (values.length === 0) return { id, title, description, empty: emptyText, spec: null, values: [] };
  return { id, title, description, empty: null, spec: { ...base, ...spec }, values };
}

export function reportSections(d: ReportData): PlotSection[] {
  return [
    section('drift', 'Drift per feature over time', 'Each drift check of a view compared its window with the baseline. Distance methods drift above the threshold, p-value methods (ks, chisquare, z) below it; the dashed line is the threshold, filled points drifted.',
      d.drift, 'no drift reports yet (ctloop drift check, or the scheduled checks, write them)', 'no drift reports yet', {
        facet: { field: 'panel', type: 'nominal', title: null },
        columns: 4,
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 220, height: 140,
          layer: [
            { mark: { type: 'line', point: false }, encoding: { x: { field: 'windowEnd', type: 'temporal', title: 'window end' }, y: { field: 'value', type: 'quantitative', title: 'statistic / p-value' } } },
            {
              mark: { type: 'point', filled: true, size: 50 },
              encoding: {
                x: { field: 'windowEnd', type: 'temporal' }, y: { field: 'value', type: 'quantitative' },
                color: { field: 'drifted', type: 'nominal', scale: { domain: [false, true], range: ['#4c78a8', '#e45756'] }, title: 'drifted' },
                tooltip: [{ field: 'panel' }, { field: 'windowEnd', type: 'temporal' }, { field: 'method' }, { field: 'measure' }, { field: 'value', format: '.4f' }, { field: 'threshold' }, { field: 'drifted' }, { field: 'reportId' }],
              },
            },
            { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { aggregate: 'max', field: 'threshold', type: 'quantitative' } } },
          ],
        },
      }),
    section('metrics', 'Model metrics per version', 'Test metrics of every registered version (from its evaluation), blessed or refused by the gate.',
      d.metrics, 'no model versions registered yet', 'no model versions registered yet', {
        facet: { column: { field: 'metric', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 160, height: 180, mark: 'bar',
          encoding: {
            x: { field: 'label', type: 'nominal', title: 'version', sort: null },
            y: { field: 'value', type: 'quantitative', title: null },
            color: { field: 'blessed', type: 'nominal', scale: { domain: [true, false], range: ['#54a24b', '#bab0ac'] } },
            tooltip: [{ field: 'label' }, { field: 'metric' }, { field: 'value', format: '.4f' }, { field: 'blessed' }, { field: 'aliases' }],
          },
        },
      }),
    section('slices', 'Model metrics per slice', 'The candidate\'s metrics on each evaluated slice (slices smaller than the gate\'s minimum size are not evaluated).',
      d.slices, 'no evaluated slices yet', 'no evaluated slices yet', {
        facet: { column: { field: 'metric', type: 'nominal', title: null } },
        resolve: { scale: { x: 'independent' } },
        spec: {
          width: 300, mark: { type: 'point', filled: true },
          encoding: {
            y: { field: 'slice', type: 'nominal', title: null }, x: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
            color: { field: 'label', type: 'nominal', title: 'version' }, size: { field: 'rows', type: 'quantitative', title: 'rows' },
            tooltip: [{ field: 'label' }, { field: 'slice' }, { field: 'metric' }, { field: 'value', format: '.4f' }, { field: 'rows' }],
          },
        },
      }),
    section('canary', 'Canary vs champion', 'Each rollout\'s checks: the canary\'s value beside the champion\'s over the canary period.',
      d.canary, 'no canary checks yet (a rollout decides at the end of its canary period)', 'no deployments yet', {
        facet: { row: { field: 'rollout', type: 'nominal', title: null } },
        spec: {
          width: 400, mark: 'bar',
          encoding: { y: { field: 'check', type: 'nominal', title: null }, yOffset: { field: 'side' }, x: { field: 'value', type: 'quantitative' }, color: { field: 'side', type: 'nominal' }, tooltip: [{ field: 'check' }, { field: 'side' }, { field: 'value', format: '.4f' }] },
        },
      }),
    section('live', 'Live performance from delayed labels', 'AUC per day of prediction and version, over the predictions whose labels have arrived.',
      d.live && d.live.filter((p) => p.auc !== null), 'no labelled predictions yet', 'no deployments yet', {
        width: 600, height: 220, mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'day', type: 'temporal', title: 'day' }, y: { field: 'auc', type: 'quantitative', scale: { zero: false }, title: 'live AUC' },
          color: { field: 'version', type: 'nominal' }, tooltip: [{ field: 'version' }, { field: 'day' }, { field: 'auc', format: '.4f' }, { field: 'labelled' }, { field: 'predictions' }],
        },
      }),
    section('lineage', 'Lineage timeline', 'Every link of each version\'s causal chain at the time it happened: baseline, drift report, training request and run, evaluation, canary, serving.',
      d.lineage, 'no model versions registered yet', 'no model versions registered yet', {
        width: 700, height: 240,
        mark: { type: 'point', filled: true, size: 90 },
        encoding: {
          x: { field: 'time', type: 'temporal', title: null },
          y: { field: 'stage', type: 'nominal', sort: ['data', 'baseline', 'window', 'drift report', 'training request', 'training run', 'evaluation', 'canary', 'serving'], title: null },
          color: { field: 'label', type: 'nominal', title: 'version' }, shape: { field: 'label', type: 'nominal' },
          tooltip: [{ field: 'label' }, { field: 'stage' }, { field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M:%S' }, { field: 'summary' }],
        },
      }),
  ];
}
