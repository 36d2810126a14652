import { ValidationError } from '../errors.js';

/** Identifiers accepted for tables and columns: safe on DuckDB and BigQuery, never quoted user text. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Names both engines reserve or that collide with ctloop's system columns. */
const RESERVED = new Set(
  [
    'all', 'and', 'any', 'array', 'as', 'asc', 'between', 'by', 'case', 'cast', 'create', 'cross', 'current', 'default',
    'desc', 'distinct', 'else', 'end', 'exists', 'extract', 'false', 'from', 'full', 'group', 'having', 'if', 'in',
    'inner', 'interval', 'into', 'is', 'join', 'left', 'like', 'limit', 'merge', 'natural', 'not', 'null', 'of', 'on',
    'or', 'order', 'outer', 'over', 'partition', 'qualify', 'range', 'right', 'rows', 'select', 'set', 'struct',
    'table', 'then', 'to', 'true', 'union', 'unnest', 'using', 'when', 'where', 'window', 'with',
  ],
);

export function assertIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new ValidationError(`${what} "${name}" is not a valid identifier`, {
      hint: 'use letters, digits and underscores, starting with a letter or underscore (at most 128 characters)',
    });
  }
  if (RESERVED.has(name.toLowerCase())) {
    throw new ValidationError(`${what} "${name}" is a reserved SQL keyword`, { hint: 'choose another name' });
  }
  return name;
}

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name.toLowerCase());
}
