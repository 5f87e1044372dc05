/**
 * Blast radius: the nodes set aside so the rest talk freely (isolate one → 1,
 * halves → half, a flaky link → one end, control-plane cuts count), and the
 * refusal names the count, the fraction and the limit; an experiment may raise it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRule } from '../protocol';
import { blastRadiusOf, effectiveLimit } from './blast-radius';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
const cut = (pairs: [string, string][]) => {
  const rules = new Map<string, FaultRule[]>();
  for (const [a, b] of pairs) {
    rules.set(a, [...(rules.get(a) ?? []), { peerId: b, dropInbound: true, dropOutbound: true }]);
    rules.set(b, [...(rules.get(b) ?? []), { peerId: a, dropInbound: true, dropOutbound: true }]);
  }
  return { rules, controlPlaneCut: [] as string[] };
};
const limit = { nodesMax: 100, fractionMax: 0.5 };

describe('blast radius', () => {
  it('counts the nodes set aside at the worst step', () => {
    const isolateOne = cut(nodes.slice(1).map((node) => ['n1', node]));
    assert.deepEqual(blastRadiusOf([{ rules: new Map(), controlPlaneCut: [] }, isolateOne], nodes, limit).affected, ['n1']);
    const halves = cut(['n1', 'n2', 'n3'].flatMap((a) => ['n4', 'n5', 'n6'].map((b): [string, string] => [a, b])));
    assert.equal(blastRadiusOf([halves], nodes, limit).affected.length, 3);
    assert.equal(blastRadiusOf([cut([['n2', 'n5']])], nodes, limit).affected.length, 1);
    assert.deepEqual(blastRadiusOf([{ rules: new Map(), controlPlaneCut: ['n4'] }], nodes, limit).affected, ['n4']);
  });
  it('refuses past the fraction or the count, with the reason', () => {
    const four = cut(['n1', 'n2', 'n3', 'n4'].flatMap((a) => nodes.filter((b) => b !== a).map((b): [string, string] => [a, b])));
    const refused = blastRadiusOf([four], nodes, limit);
    assert.match(refused.refusal ?? '', /4 of 6 nodes affected \(67 %.*above the limit of 50 %/);
    assert.match(blastRadiusOf([four], nodes, { nodesMax: 2, fractionMax: 1 }).refusal ?? '', /4 nodes affected .* above the limit of 2/);
    assert.equal(blastRadiusOf([four], nodes, effectiveLimit(limit, { fractionMax: 0.7 })).refusal, null);
    assert.deepEqual(effectiveLimit(limit, { fractionMax: 0.1 }), limit, 'an experiment cannot lower the server limit below itself by accident');
  });
});
