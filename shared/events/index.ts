export * from './envelope.js';
export * from './catalog.js';
