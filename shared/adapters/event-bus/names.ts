import { ConfigError } from '../../errors.js';

/** Pub/Sub's rule for topic and subscription ids; the in-memory bus enforces it too so names work in every mode. */
const RESOURCE_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

export function checkResourceId(kind: 'topic' | 'subscription', id: string): string {
  if (!RESOURCE_ID.test(id) || id.toLowerCase().startsWith('goog')) {
    throw new ConfigError(`invalid ${kind} id ${JSON.stringify(id)}`, {
      hint: `a ${kind} id is 3-255 characters: a letter, then letters, digits or - _ . ~ + %, and must not start with "goog"`,
    });
  }
  return id;
}
