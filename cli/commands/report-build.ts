import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { collectReportData, type ReportData } from '../../shared/report/data.js';
import { renderReportHtml } from '../../shared/report/html.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { runtimeExtras } from '../../shared/status/extras.js';

/** The report of a runtime's loop (used by `ctloop report` and `ctloop ui`). */
export async function buildReport(rt: Runtime): Promise<{ html: string; data: ReportData }> {
  const data = await collectReportData({ warehouse: rt.warehouse, objectStore: rt.objectStore, registry: await registryOf(rt), repo: rt.repo, extras: runtimeExtras(rt) });
  return { html: await renderReportHtml(data), data };
}
