/** Shapes of scenarios (the catalog's names), the expected classification mapped to live ids, coverage from runs, and the JUnit export. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExperimentReport } from './experiment-views';
import { experimentJunitXml } from './report-export';
import { coverageOf, expectedClassificationOf, partitionShapes, shapesOf } from './scenario-shapes';

describe('scenario shapes', () => {
  it('names each fault by its shape', () => {
    assert.deepEqual(shapesOf([{ kind: 'isolate' }], 5), ['isolate-one']);
    assert.deepEqual(shapesOf([{ kind: 'partition', groups: [['n1', 'n2', 'n3'], ['n4', 'n5', 'n6']] }], 6), ['halves']);
    assert.deepEqual(shapesOf([{ kind: 'partition', groups: [['n1', 'n2'], ['n4', 'n5']] }], 5), ['bridge']);
    assert.deepEqual(shapesOf([{ kind: 'partition', groups: [['n1', 'n2'], ['n2', 'n3']] }], 3), ['overlapping-groups']);
    assert.deepEqual(shapesOf([{ kind: 'partition', groups: [['n1'], ['n2'], ['n3']] }], 3), ['three-way']);
    assert.deepEqual(shapesOf([{ kind: 'corrupt' }, { kind: 'drop' }, { kind: 'loss' }, { kind: 'majorities-ring' }, { kind: 'pause' }], 5), ['majorities-ring', 'one-way', 'flaky', 'corrupt', 'pause']);
  });
  it('maps the expected classification onto the live nodes; the experiment block wins', () => {
    const expect = [{ kind: 'quiet' }, { kind: 'verdict', type: 'complete' as const, components: [['n1', 'n2'], ['n3']], hasMajority: true }];
    assert.deepEqual(expectedClassificationOf(expect, undefined, { n1: 'a', n2: 'b', n3: 'c' }), { type: 'complete', components: [['a', 'b'], ['c']], hasMajority: true });
    assert.deepEqual(expectedClassificationOf(expect, { type: 'partial', bridgeNodes: ['n3'] }, { n3: 'c' }), { type: 'partial', bridgeNodes: ['c'] });
    assert.equal(expectedClassificationOf([{ kind: 'quiet' }], undefined, {}), null);
  });
  it('coverage lists every catalog shape with its latest finished run', () => {
    const coverage = coverageOf([
      { id: 'r1', scenario: 'split-halves', shapes: ['halves'], status: 'passed', startedAtMs: 1 },
      { id: 'r2', scenario: 'split-halves', shapes: ['halves'], status: 'failed', startedAtMs: 2 },
      { id: 'r3', scenario: 'x', shapes: ['pause'], status: 'running', startedAtMs: 3 },
    ]);
    assert.deepEqual(coverage.map((entry) => entry.shape), [...partitionShapes]);
    assert.deepEqual(coverage.find((entry) => entry.shape === 'halves'), { shape: 'halves', label: 'halves', runs: 2, last: { runId: 'r2', scenario: 'split-halves', status: 'failed', atMs: 2 } });
    assert.equal(coverage.find((entry) => entry.shape === 'bridge')?.last, null);
  });
});

describe('JUnit export', () => {
  it('has one case per validator, failures and skips marked, text escaped', () => {
    const report = {
      id: 'r1', clusterId: 'demo', scenario: 'split<halves>', status: 'failed', startedBy: 'a', startedAtMs: 0, endedAtMs: 2500, shapes: [], affectedNodes: [], verdicts: [],
      file: {}, mapping: {}, notes: [], steps: [], samples: [], events: [], partitionIds: [],
      verdictDetails: [
        { validator: 'detection', outcome: 'fail', summary: 'type "complete" & not partial', evidence: { a: 1 } },
        { validator: 'recovery', outcome: 'skipped', summary: 'nothing', evidence: {} },
        { validator: 'consistency', outcome: 'pass', summary: 'ok', evidence: {} },
      ],
    } satisfies ExperimentReport;
    const xml = experimentJunitXml(report);
    assert.match(xml, /<testsuite name="split&lt;halves&gt;" id="r1" tests="3" failures="1" errors="0" skipped="1" time="2.500"/);
    assert.match(xml, /<failure message="type &quot;complete&quot; &amp; not partial">/);
    assert.match(xml, /name="recovery">\n\s+<skipped message="nothing"\/>/);
  });
});
