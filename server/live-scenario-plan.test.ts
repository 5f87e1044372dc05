/**
 * Proves that every scenario of the catalog maps onto a live five-node cluster:
 * each one plans at least one step that changes the network, every plan ends
 * healed, and for each the rules at its first fault are the ones the scenario
 * means (who drops, loses or corrupts what, who is cut from the server), with
 * the wrap-around and the left-out fault kinds named in the notes.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { FaultRule } from '../core/protocol';
import { parseScenario } from '../sim/scenario';
import { type LiveScenarioPlan, planLiveScenario } from './live-scenario-plan';

const directory = new URL('../scenarios/', import.meta.url);
const files = readdirSync(directory).filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'));
const live = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];
const plan = (name: string) => planLiveScenario(parseScenario(JSON.parse(readFileSync(new URL(name, directory), 'utf8')), name), live);

/** The directed drops of a step, as `from>to` strings, sorted. */
function drops(plan: LiveScenarioPlan, atMs: number): string[] {
  const step = [...plan.steps].reverse().find((candidate) => candidate.atMs <= atMs)!;
  return [...step.rules].flatMap(([owner, rules]) => rules.filter((rule) => rule.dropOutbound).map((rule) => `${owner}>${rule.peerId}`)).sort();
}
const stepAt = (plan: LiveScenarioPlan, atMs: number) => [...plan.steps].reverse().find((candidate) => candidate.atMs <= atMs)!;
const ruleOf = (plan: LiveScenarioPlan, atMs: number, owner: string, peer: string): FaultRule | undefined => stepAt(plan, atMs).rules.get(owner)?.find((rule) => rule.peerId === peer);
const both = (a: string, b: string) => [`${a}>${b}`, `${b}>${a}`];
const cutsBetween = (left: string[], right: string[]) => left.flatMap((a) => right.flatMap((b) => both(a, b))).sort();

describe('catalog scenarios on a live cluster', () => {
  test('every catalog file plans a change to the network and ends healed', () => {
    assert.ok(files.length >= 13, `only ${files.length} scenario files`);
    for (const file of files) {
      const planned = plan(file);
      assert.ok(planned.steps.some((step) => step.rules.size > 0 || step.controlPlaneCut.length > 0), `${file}: changes nothing`);
      const last = planned.steps.at(-1)!;
      assert.deepEqual([last.atMs, last.rules.size, last.controlPlaneCut], [planned.durationMs, 0, []], `${file}: does not end healed`);
      assert.deepEqual(planned.steps.map((step) => step.atMs), [...planned.steps.map((step) => step.atMs)].sort((a, b) => a - b));
    }
  });

  const cases: [string, (planned: LiveScenarioPlan) => void][] = [
    ['one-way.json', (p) => {
      assert.deepEqual(drops(p, 0), []);
      assert.deepEqual(drops(p, 5000), ['node-1>node-2']);
      assert.equal(ruleOf(p, 5000, 'node-2', 'node-1')?.dropInbound, true);
      assert.deepEqual(drops(p, 12000), []);
    }],
    ['isolate-one.json', (p) => assert.deepEqual(drops(p, 5000), cutsBetween(['node-1'], ['node-2', 'node-3', 'node-4', 'node-5']))],
    ['bridge.json', (p) => assert.deepEqual(drops(p, 5000), cutsBetween(['node-1', 'node-2'], ['node-4', 'node-5']))],
    ['split-halves.json', (p) => {
      // Six scenario nodes on five: n6 is node-1 again, in both groups, so it keeps every link.
      assert.deepEqual(drops(p, 5000), cutsBetween(['node-2', 'node-3'], ['node-4', 'node-5']));
      assert.match(p.notes.join(' '), /6 nodes and the cluster 5: n6 and later wrap/);
    }],
    ['majorities-ring.json', (p) => {
      for (const node of live) assert.equal(stepAt(p, 5000).rules.get(node)?.length, 2, `${node} loses the two links two steps away`);
      assert.ok(drops(p, 5000).includes('node-1>node-3') && !drops(p, 5000).includes('node-1>node-2'));
    }],
    ['random-halves.json', (p) => {
      const cut = drops(p, 5000);
      assert.ok(cut.length === 12, `a 2 | 3 split cuts 12 directions, got ${cut.length}`);
    }],
    ['flaky-link.json', (p) => {
      assert.equal(ruleOf(p, 5000, 'node-1', 'node-2')?.lossRatio, 0.85);
      assert.equal(ruleOf(p, 5000, 'node-2', 'node-1')?.lossRatio, 0.85);
      assert.deepEqual(drops(p, 5000), []);
    }],
    ['corruption.json', (p) => {
      for (const peer of live.slice(1)) assert.equal(ruleOf(p, 5000, 'node-1', peer)?.corruptRatio, 0.3);
      assert.equal(ruleOf(p, 5000, 'node-2', 'node-1'), undefined);
    }],
    ['control-plane-cut.json', (p) => {
      assert.deepEqual([stepAt(p, 5000).controlPlaneCut, stepAt(p, 5000).rules.size], [['node-1'], 0]);
      assert.deepEqual(stepAt(p, 12000).controlPlaneCut, []);
    }],
    ['paused-node.json', (p) => {
      assert.deepEqual(stepAt(p, 5000).controlPlaneCut, ['node-1']);
      assert.deepEqual(drops(p, 5000), cutsBetween(['node-1'], live.slice(1)));
      assert.deepEqual(drops(p, 8000), []);
      assert.match(p.notes.join(' '), /pause is played as the node going silent/);
    }],
    ['crashed-vs-isolated.json', (p) => {
      assert.deepEqual(stepAt(p, 5000).controlPlaneCut, ['node-1', 'node-3']);
      for (const node of ['node-1', 'node-2', 'node-3']) assert.equal(stepAt(p, 5000).rules.get(node)?.length, 4, `${node} cut from every peer`);
      assert.deepEqual(stepAt(p, 14_999).controlPlaneCut, ['node-1', 'node-3'], 'a crash lasts to the end of the run');
    }],
    ['large-isolate.json', (p) => {
      // n17 of 200 plays node-2 (17 − 1 = 16, 16 mod 5 = 1); 1 % loss everywhere from the start.
      assert.equal(p.mapping.n17, 'node-2');
      assert.deepEqual(drops(p, 10_000), cutsBetween(['node-2'], ['node-1', 'node-3', 'node-4', 'node-5']));
      assert.equal(ruleOf(p, 0, 'node-4', 'node-5')?.lossRatio, 0.01);
    }],
    ['large-isolate-1000.json', (p) => {
      // n17 of 1,000 plays node-2 too; the isolation starts at 12 s and heals at 20 s.
      assert.equal(p.mapping.n17, 'node-2');
      assert.deepEqual(drops(p, 11_000), []);
      assert.deepEqual(drops(p, 12_000), cutsBetween(['node-2'], ['node-1', 'node-3', 'node-4', 'node-5']));
      assert.deepEqual(drops(p, 20_000), []);
    }],
    // The three shapes the chaos page offers for each recovery path (issue 13).
    ['recovery-automatic.json', (p) => {
      assert.deepEqual(drops(p, 5000), both('node-1', 'node-2').sort(), 'one cut link, every node still on one side');
      assert.deepEqual(drops(p, 35_000), []);
    }],
    ['recovery-phased.json', (p) => assert.deepEqual(drops(p, 5000), cutsBetween(['node-1', 'node-2'], ['node-3', 'node-4', 'node-5']))],
    ['recovery-manual.json', (p) => {
      const expected = [...cutsBetween(['node-1', 'node-2'], ['node-3', 'node-4']), ...cutsBetween(['node-1', 'node-2', 'node-3', 'node-4'], ['node-5'])].sort();
      assert.deepEqual(drops(p, 5000), expected, 'three sides, none a majority');
    }],
    ['latency-onset.json', (p) => {
      assert.deepEqual([ruleOf(p, 4000, 'node-2', 'node-5')?.delayMs, ruleOf(p, 4000, 'node-2', 'node-5')?.jitterMs], [210, 120]);
      assert.deepEqual(drops(p, 4000), []);
      assert.match(p.notes.join(' '), /onset is played as a step/);
    }],
    ['latency-spike.json', (p) => assert.equal(ruleOf(p, 4000, 'node-5', 'node-2')?.delayMs, 280)],
    ['deaf-node.json', (p) => {
      for (const peer of ['node-1', 'node-2', 'node-3', 'node-5']) assert.equal(ruleOf(p, 6000, 'node-4', peer)?.dropInbound, true);
      assert.equal(ruleOf(p, 6000, 'node-4', 'node-1')?.dropOutbound, false, 'a deaf node still sends');
    }],
    ['flapping-bridge.json', (p) => {
      assert.deepEqual(drops(p, 5000), cutsBetween(['node-1', 'node-2'], ['node-4', 'node-5']));
      assert.deepEqual(drops(p, 7000), []);
      assert.deepEqual(drops(p, 21_000), cutsBetween(['node-1', 'node-2'], ['node-4', 'node-5']));
    }],
    ['majorities-ring-7.json', (p) => assert.ok(drops(p, 6000).length > 0)],
    ['isolate-several.json', (p) => {
      // Seven scenario nodes on five: n6 is node-1, n7 node-2. `isolate` n2, n6 leaves node-2 and node-1 each alone.
      assert.ok(drops(p, 4000).includes('node-1>node-2') && drops(p, 4000).includes('node-2>node-1'), 'isolated nodes cannot hear each other');
      // `isolate-group` n1, n3 keeps node-1 and node-3 together.
      assert.ok(!drops(p, 15_000).includes('node-1>node-3'));
    }],
    ['mass-crash.json', (p) => assert.deepEqual(stepAt(p, 5000).controlPlaneCut, ['node-1', 'node-2', 'node-3'])],
    ['lone-survivor.json', (p) => assert.equal(stepAt(p, 5000).controlPlaneCut.length, 5)],
    ['lossy-jitter-soak.json', (p) => assert.equal(ruleOf(p, 0, 'node-1', 'node-5')?.lossRatio, 0.02)],
    ['healthy-soak.json', (p) => {
      assert.equal(ruleOf(p, 0, 'node-1', 'node-5')?.lossRatio, 0.02);
      assert.deepEqual(drops(p, 0), []);
      assert.match(p.notes.join(' '), /background duplication is left out/);
    }],
  ];
  for (const [file, check] of cases) test(file, () => check(plan(file)));

  test('every catalog file has a case here', () => {
    assert.deepEqual(files.filter((file) => !cases.some(([name]) => name === file)), []);
  });
});
