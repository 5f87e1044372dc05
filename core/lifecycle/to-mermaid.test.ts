// Proves that the Mermaid diagram is generated from the definition (every transition
// appears, nothing else), highlights the current state and numbers the path taken.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lifecycleDefinition } from './lifecycle-definition';
import { toMermaid } from './to-mermaid';

test('every defined transition appears once, and nothing else', () => {
  const text = toMermaid(lifecycleDefinition);
  const edges = text.split('\n').filter((line) => line.includes('-->') && !line.includes('[*]'));
  assert.equal(edges.length, lifecycleDefinition.transitions.length);
  for (const transition of lifecycleDefinition.transitions) {
    assert.ok(text.includes(`    ${transition.from} --> ${transition.to}: ${transition.label}\n`), `${transition.from} → ${transition.to}`);
  }
  assert.ok(text.startsWith('stateDiagram-v2\n    [*] --> Normal\n'));
});

test('current state highlighted, path visited and numbered', () => {
  const text = toMermaid(lifecycleDefinition, {
    current: 'ReconciliationMode',
    path: ['Normal', 'PartitionDetected', 'DegradedOperation', 'ReconciliationMode'],
  });
  assert.match(text, /Normal --> PartitionDetected: Network Issue \(step 1\)/);
  assert.match(text, /DegradedOperation --> ReconciliationMode: Partition Healed \(step 3\)/);
  assert.match(text, /EmergencyMode --> ReconciliationMode: Partition Healed\n/);
  assert.match(text, /class Normal,PartitionDetected,DegradedOperation visited/);
  assert.match(text, /class ReconciliationMode current/);
});
