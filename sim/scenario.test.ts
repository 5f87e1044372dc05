// Proves the scenario format: every catalog file parses, the committed JSON Schema is
// exactly the one generated from the zod schema, and a wrong file is refused with the
// offending field named.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { ScenarioError, parseScenario, scenarioJsonSchema, scenarioNodeIds } from './scenario';

const directory = new URL('../scenarios/', import.meta.url);
const files = readdirSync(directory).filter((file) => file.endsWith('.json') && file !== 'scenario.schema.json');

test('every catalog scenario parses', () => {
  assert.ok(files.length >= 12, `${files.length} scenarios`);
  for (const file of files) parseScenario(JSON.parse(readFileSync(new URL(file, directory), 'utf8')), file);
});

test('the committed JSON Schema matches the zod schema', () => {
  const committed = JSON.parse(readFileSync(new URL('scenario.schema.json', directory), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(scenarioJsonSchema())), 'run: npm run sim -- --print-schema > scenarios/scenario.schema.json');
});

test('errors name the field', () => {
  const base = { name: 'x', nodes: 3, seed: 1, durationMs: 1000, expect: [{ kind: 'quiet' }] };
  const cases: Array<[unknown, RegExp]> = [
    [{ ...base, seed: -1 }, /seed/],
    [{ ...base, faults: [{ kind: 'isolate', nodes: ['n9'], atMs: 0 }] }, /faults\.0\.nodes\.0: unknown node "n9"/],
    [{ ...base, faults: [{ kind: 'loss', from: '*', to: '*', ratio: 2, atMs: 0 }] }, /faults\.0\.ratio/],
    [{ ...base, faults: [{ kind: 'pause', nodes: ['n1'], atMs: 500, untilMs: 100 }] }, /faults\.0\.untilMs: must be after atMs/],
    [{ ...base, expect: [] }, /expect/],
    [{ ...base, surprise: true }, /surprise|unrecognized/i],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => parseScenario(input, 'test.json'), (error: unknown) => error instanceof ScenarioError && pattern.test(error.message));
  }
  assert.deepEqual(scenarioNodeIds(parseScenario(base)), ['n1', 'n2', 'n3']);
});
