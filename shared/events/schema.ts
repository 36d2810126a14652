import { z } from 'zod';
import { stringify } from 'yaml';
import { functionRegistry, type FunctionSpec } from '../topology/functions.js';
import { CE } from './binding.js';
import { catalog, eventNames, type EventName } from './catalog.js';
import { envelopeSchema } from './envelope.js';

/**
 * The producer contract for other languages, generated from the zod catalog (pure; schema-files.ts writes it):
 * - `schemas/<type>.data.json` — JSON Schema (draft-07) of the event's data: the message data of the
 *   CloudEvents and data-only forms;
 * - `schemas/<type>.envelope.json` — JSON Schema of the full ctloop envelope of that event;
 * - `asyncapi.yaml` — an AsyncAPI 3.0 document: one channel per topic (Pub/Sub bindings), each event in its three
 *   forms as messages (headers = the Pub/Sub attributes), and ctloop's operations (receive what its functions
 *   consume, send what they publish).
 * Input schemas (`io: 'input'`): what a producer may send (fields with defaults are optional). Checks JSON Schema
 * cannot express (real calendar dates in event times, window start before end) are done by ctloop on receipt.
 */
const TARGET = 'draft-7' as const;

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: TARGET, io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function withHeader(id: string, title: string, description: string, schema: Record<string, unknown>): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id: id, title, description, ...schema };
}

export function dataSchema(name: EventName): Record<string, unknown> {
  return jsonSchema(catalog[name].schema);
}

export function envelopeSchemaOf(name: EventName): Record<string, unknown> {
  return jsonSchema(envelopeSchema.extend({ type: z.literal(catalog[name].type), data: catalog[name].schema }));
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

function headers(name: EventName, form: 'cloudevents' | 'envelope' | 'data-only'): Record<string, unknown> {
  const type = catalog[name].type;
  const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
  if (form === 'cloudevents') {
    return {
      type: 'object',
      description: 'CloudEvents Pub/Sub protocol binding, binary content mode: CloudEvents attributes as ce-* message attributes.',
      required: [CE.specversion, CE.type, CE.source],
      properties: {
        [CE.specversion]: str('CloudEvents version', { const: '1.0' }),
        [CE.type]: str('the event type', { const: type }),
        [CE.source]: str('who produced the event, e.g. orders-service'),
        [CE.id]: str('unique event id; a retried publish keeps it (exactly-once effect). Default: the Pub/Sub message id'),
        [CE.time]: str('RFC 3339 event time. Default: the publish time', { format: 'date-time' }),
        [CE.correlationId]: str('id shared by everything that follows from one root cause. Default: the event id'),
        [CE.causationId]: str('id of the event that caused this one'),
        'content-type': str('media type of the data', { enum: ['application/json'] }),
      },
    };
  }
  if (form === 'data-only') {
    return {
      type: 'object',
      description: 'Data-only form (what Cloud Scheduler jobs send): id = Pub/Sub message id, time = publish time.',
      required: ['type', 'ctloop-body'],
      properties: {
        type: str('the event type', { const: type }),
        'ctloop-body': str('marks the data as event data, not an envelope', { const: 'data' }),
        source: str('who produced the event. Default: cloud-scheduler'),
      },
    };
  }
  return {
    type: 'object',
    description: 'Full ctloop envelope in the message data; attributes optional (ctloop sets them when it publishes).',
    properties: {
      type: str('the event type (must equal the envelope type)', { const: type }),
      correlationId: str('the envelope correlationId'),
      causationId: str('the envelope causationId'),
      'ctloop-event-id': str('the envelope id'),
    },
  };
}

export function asyncApiDocument(opts: { version: string; registry?: FunctionSpec[] }): Record<string, unknown> {
  const registry = opts.registry ?? functionRegistry;
  const topics = [...new Set(eventNames.map((n) => catalog[n].topic))];
  const channels: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const topic of topics) {
    const names = eventNames.filter((n) => catalog[n].topic === topic);
    const channelMessages: Record<string, unknown> = {};
    for (const n of names) {
      const e = catalog[n];
      schemas[`${pascal(n)}Data`] = dataSchema(n);
      schemas[`${pascal(n)}Envelope`] = envelopeSchemaOf(n);
      const forms = [
        ['CloudEvent', 'cloudevents', `${pascal(n)}Data`, 'CloudEvents binary mode (recommended for producers)'],
        ['Envelope', 'envelope', `${pascal(n)}Envelope`, 'full ctloop envelope'],
        ['DataOnly', 'data-only', `${pascal(n)}Data`, 'data with type and ctloop-body=data attributes'],
      ] as const;
      for (const [suffix, form, schema, what] of forms) {
        const id = `${n}${suffix}`;
        messages[id] = {
          name: e.type,
          title: `${e.type} — ${what}`,
          summary: e.description,
          contentType: 'application/json',
          headers: headers(n, form),
          payload: { $ref: `#/components/schemas/${schema}` },
          bindings: { googlepubsub: { bindingVersion: '0.2.0' } },
        };
        channelMessages[id] = { $ref: `#/components/messages/${id}` };
      }
    }
    channels[topic] = {
      address: topic,
      description: `Pub/Sub topic ${topic}. Invalid messages go to ${topic}-dead-letter (held on ${topic}-dead-letter-hold).`,
      messages: channelMessages,
      bindings: { googlepubsub: { bindingVersion: '0.2.0' } },
    };
  }
  const operations: Record<string, unknown> = {};
  const op = (action: 'send' | 'receive', n: EventName, who: string) => {
    const topic = catalog[n].topic;
    const key = `${action}${pascal(n)}`;
    const prev = operations[key] as { description: string } | undefined;
    operations[key] = {
      action,
      channel: { $ref: `#/channels/${topic}` },
      summary: `${action === 'receive' ? 'ctloop consumes' : 'ctloop publishes'} ${catalog[n].type}`,
      description: prev ? `${prev.description}, ${who}` : `function ${who}`,
      messages: ['CloudEvent', 'Envelope', 'DataOnly'].map((s) => ({ $ref: `#/channels/${topic}/messages/${n}${s}` })),
    };
  };
  for (const f of registry) {
    op('receive', f.trigger, f.name);
    for (const p of f.publishes) op('send', p, f.name);
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'ctloop events',
      version: opts.version,
      description: 'The producer contract of ctloop (README.md "Publishing events"), generated from shared/events/catalog.ts by `ctloop events schema`. Any of the three message forms of an event is accepted on its topic; anything else is dead-lettered with its reason.',
    },
    defaultContentType: 'application/json',
    channels,
    operations: Object.fromEntries(Object.entries(operations).sort(([a], [b]) => a.localeCompare(b))),
    components: { schemas, messages },
  };
}

/** Every generated file, by path relative to the output directory. */
export function renderEventDocs(opts: { version: string }): Record<string, string> {
  const files: Record<string, string> = {};
  for (const n of eventNames) {
    const e = catalog[n];
    files[`schemas/${e.type}.data.json`] = json(withHeader(`${e.type}.data.json`, `${e.type} data`, e.description, dataSchema(n)));
    files[`schemas/${e.type}.envelope.json`] = json(withHeader(`${e.type}.envelope.json`, `${e.type} envelope`, `The ctloop envelope of ${e.type}. ${e.description}`, envelopeSchemaOf(n)));
  }
  files['asyncapi.yaml'] = `# Generated by \`ctloop events schema\` from shared/events/catalog.ts: do not edit.\n${stringify(asyncApiDocument(opts), { lineWidth: 0 })}`;
  return files;
}
