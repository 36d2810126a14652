/**
 * Partition pruning for the stand-in's dry runs (test double only): which partitions of each partitioned table a
 * statement reads, from the ZetaSQL resolved statement, following BigQuery's documented rule. A partition filter
 * prunes when it is a constant comparison of the partitioning column (a literal or a query parameter, with =, <,
 * <=, >, >= or BETWEEN) in a WHERE clause, at the top level of its ANDs (also inside subqueries). A condition in a
 * JOIN's or a MERGE's ON clause does not count: BigQuery "might or might not" prune on it, and the model assumes it
 * does not. Anything else reads the whole table.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Node = any;

export interface ScanBounds {
  /** Table name as resolved, e.g. `project.dataset.table`. */
  table: string;
  /** Columns the statement reads from the table (BigQuery bills only those). */
  columns: string[];
  /** Column → inclusive bounds the statement's WHERE filters give it (only constant comparisons). */
  bounds: Map<string, { lo: Date | null; hi: Date | null }>;
}

interface Bound { columnId: string; lo: Date | null; hi: Date | null }

const COMPARISONS = new Set(['$equal', '$less', '$less_or_equal', '$greater', '$greater_or_equal', '$between']);

function call(n: Node): { name: string; args: Node[] } | null {
  const f = n?.resolved_function_call_base_node?.resolved_function_call_node?.parent;
  if (!f) return null;
  return { name: String(f.function?.name ?? '').replace(/^ZetaSQL:/, ''), args: f.argument_list ?? [] };
}

function columnId(n: Node): string | null {
  const c = n?.resolved_column_ref_node?.column;
  return c ? String(c.column_id) : null;
}

/** A constant TIMESTAMP operand: a literal or a named parameter. */
function constant(n: Node, params: Record<string, unknown>): Date | null {
  const ts = n?.resolved_literal_node?.value?.value?.timestamp_value;
  if (ts) return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6));
  const p = n?.resolved_parameter_node?.name;
  if (p !== undefined) {
    const v = params[p];
    return v instanceof Date ? v : null;
  }
  return null;
}

function conjuncts(expr: Node): Node[] {
  const c = call(expr);
  return c?.name === '$and' ? c.args.flatMap(conjuncts) : [expr];
}

function bound(expr: Node, params: Record<string, unknown>): Bound | null {
  const c = call(expr);
  if (!c || !COMPARISONS.has(c.name)) return null;
  if (c.name === '$between') {
    const id = columnId(c.args[0]);
    const lo = constant(c.args[1], params);
    const hi = constant(c.args[2], params);
    return id && lo && hi ? { columnId: id, lo, hi } : null;
  }
  const [a, b] = c.args as [Node, Node];
  const left = columnId(a);
  const id = left ?? columnId(b);
  const value = left ? constant(b, params) : constant(a, params);
  if (!id || !value) return null;
  // Normalise to "column OP value".
  const op = left ? c.name : ({ $less: '$greater', $less_or_equal: '$greater_or_equal', $greater: '$less', $greater_or_equal: '$less_or_equal' } as Record<string, string>)[c.name] ?? c.name;
  if (op === '$equal') return { columnId: id, lo: value, hi: value };
  if (op === '$less' || op === '$less_or_equal') return { columnId: id, lo: null, hi: value };
  return { columnId: id, lo: value, hi: null };
}

/** Every table scan of the statement, with the WHERE bounds on its columns. */
export function tableScans(resolved: Node, params: Record<string, unknown>): ScanBounds[] {
  const bounds: Bound[] = [];
  const scans: { table: string; columns: { id: string; name: string }[] }[] = [];
  const walk = (n: Node): void => {
    if (Array.isArray(n)) { n.forEach(walk); return; }
    if (!n || typeof n !== 'object') return;
    const filter = n.resolved_filter_scan_node;
    if (filter) for (const e of conjuncts(filter.filter_expr)) { const b = bound(e, params); if (b) bounds.push(b); }
    // A table scan: wrapped as `resolved_table_scan_node` where any scan may stand, bare where only a table scan
    // may (a MERGE's or UPDATE's target, `table_scan`).
    const scan = n.table?.name !== undefined && Array.isArray(n.column_index_list) ? n : null;
    if (scan) {
      scans.push({
        table: String(scan.table?.full_name ?? scan.table?.name),
        columns: (scan.parent?.column_list ?? []).map((c: Node) => ({ id: String(c.column_id), name: String(c.name) })),
      });
    }
    for (const [k, v] of Object.entries(n)) {
      // An INSERT's target is written, not read: BigQuery bills only what the statement reads.
      if (k === 'resolved_insert_stmt_node') {
        for (const [k2, v2] of Object.entries(v as object)) if (k2 !== 'table_scan') walk(v2);
      } else walk(v);
    }
  };
  walk(resolved);
  return scans.map((s) => {
    const out = new Map<string, { lo: Date | null; hi: Date | null }>();
    for (const c of s.columns) {
      for (const b of bounds.filter((x) => x.columnId === c.id)) {
        const cur = out.get(c.name) ?? { lo: null, hi: null };
        if (b.lo && (!cur.lo || b.lo > cur.lo)) cur.lo = b.lo;
        if (b.hi && (!cur.hi || b.hi < cur.hi)) cur.hi = b.hi;
        out.set(c.name, cur);
      }
    }
    return { table: s.table, columns: s.columns.map((c) => c.name), bounds: out };
  });
}
