/**
 * Proves the topology's layout geometrically, on the catalog's shapes (whole 5-
 * and 7-node clusters, a single cut link, split halves, isolate one, crashed one,
 * bridge, majorities ring, three-way, one-way) and on 1,000-node ones (flaky
 * links, split halves, isolate one, three-way, bridge): no drawn edge segment
 * passes within a node radius of a node it does not join; every healthy link
 * inside a side is drawn (up to the healthy-link limit; above it none are, and
 * the legend says so); every cut link is drawn, on its own or counted in a bundle
 * between its two sides, in the link's own state and a stroke unlike an up link's;
 * sides are groups: each node inside its side's outline and outside all others,
 * outlines apart. And the router really bends: a link whose straight line runs
 * over a third node is routed round it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Shape, largeShapes, smallShapes } from '../../bench/topology/shapes';
import { edgesOverNodes } from '../../components/topology/geometry';
import { healthyLinksNodesMax, layoutTopology, nodeRadius, type TopologyLayout } from '../../components/topology/layout';
import { linkStroke } from '../../components/topology/marks';
import { ObstacleGrid, routeEdge } from '../../components/topology/route';
import { pairKey } from '../../components/topology-layout';

const shapes: Shape[] = [...smallShapes(), ...largeShapes()];

function drawnNodes(layout: TopologyLayout) {
  return [...layout.nodes.values()].map((node) => ({ ...node, radius: layout.nodeRadius }));
}

for (const { name, snapshot } of shapes) {
  test(`${name}: geometry`, () => {
    const layout = layoutTopology(snapshot);
    assert.equal(layout.nodes.size, snapshot.nodes.length, 'every node placed');
    assert.deepEqual(edgesOverNodes(drawnNodes(layout), layout.edges), [], 'no edge over a node it does not join');

    const broken = new Map(snapshot.links.map((link) => [pairKey(link.a, link.b), link]));
    const edges = new Map(layout.edges.map((edge) => [edge.key, edge]));
    const sideOf = new Map([...layout.nodes.values()].map((node) => [node.id, node.side]));
    const ids = snapshot.nodes.map((node) => node.id);
    assert.equal(layout.healthyLinksDrawn, ids.length <= healthyLinksNodesMax);
    if (layout.healthyLinksDrawn) {
      for (let i = 0; i < ids.length; i += 1) {
        for (let j = i + 1; j < ids.length; j += 1) {
          const key = pairKey(ids[i]!, ids[j]!);
          if (broken.has(key) || sideOf.get(ids[i]!) !== sideOf.get(ids[j]!)) continue;
          assert.equal(edges.get(key)?.state, 'up', `healthy ${key} inside side ${sideOf.get(ids[i]!)} drawn`);
        }
      }
    } else {
      assert.ok(layout.edges.every((edge) => edge.state !== 'up'), 'no healthy links drawn above the limit');
    }

    let bundled = 0;
    for (const edge of layout.edges.filter((found) => found.kind === 'bundle')) bundled += Object.values(edge.counts ?? {}).reduce((sum, count) => sum + count, 0);
    const separate = snapshot.links.filter((link) => edges.get(pairKey(link.a, link.b))?.kind === 'link');
    for (const link of separate) assert.equal(edges.get(pairKey(link.a, link.b))!.state, link.state, `${link.a}|${link.b} drawn in its state`);
    const omitted = layout.omitted.reduce((sum, entry) => sum + entry.count, 0);
    assert.equal(separate.length + bundled + omitted, snapshot.links.length, 'every cut link drawn alone or counted in a bundle');
    for (const edge of layout.edges) {
      if (edge.state === 'up') continue;
      const stroke = linkStroke(edge.state);
      assert.ok(stroke.dash !== linkStroke('up').dash, `${edge.key} (${edge.state}) dashed unlike an up link`);
    }

    for (const node of layout.nodes.values()) {
      for (const side of layout.sides) {
        const distance = Math.hypot(node.x - side.center.x, node.y - side.center.y);
        if (side.index === node.side) assert.ok(distance + nodeRadius <= side.radius, `${node.id} inside its side's outline`);
        else assert.ok(distance - nodeRadius >= side.radius, `${node.id} outside side ${side.index}`);
      }
    }
    for (const a of layout.sides) {
      for (const b of layout.sides) if (a.index < b.index) assert.ok(Math.hypot(a.center.x - b.center.x, a.center.y - b.center.y) >= a.radius + b.radius, 'outlines apart');
    }
    assert.deepEqual(layoutTopology(snapshot), layout, 'the same snapshot gives the same picture');
  });
}

test('the issue example: a cut n1↔n5 is drawn down and clear of n2, n3, n4', () => {
  const layout = layoutTopology(shapes.find((shape) => shape.name === 'cut-1-5')!.snapshot);
  const edge = layout.edges.find((found) => found.key === 'n1|n5');
  assert.equal(edge?.state, 'down');
  assert.deepEqual(edgesOverNodes(drawnNodes(layout), [edge!], 1.3), []);
});

test('1,000-node split halves: one bundle of 250,000 cut links between the sides', () => {
  const layout = layoutTopology(shapes.find((shape) => shape.name === 'split-halves-1000')!.snapshot);
  const bundles = layout.edges.filter((edge) => edge.kind === 'bundle');
  assert.equal(bundles.length, 1);
  assert.equal(bundles[0]!.counts?.down, 250_000);
  assert.deepEqual(bundles[0]!.sides, [0, 1]);
});

test('the router bends round a node in the way, and keeps straight when nothing is', () => {
  const nodes = [
    { id: 'a', x: 0, y: 0 },
    { id: 'b', x: 100, y: 2 },
    { id: 'c', x: 200, y: 0 },
  ];
  const grid = new ObstacleGrid(nodes, 64);
  const bent = routeEdge(grid, nodes[0]!, nodes[2]!, new Set(['a', 'c']), 20);
  assert.ok(bent.length > 2, 'bent');
  assert.deepEqual(edgesOverNodes(nodes.map((node) => ({ ...node, radius: 16 })), [{ key: 'a|c', joins: ['a', 'c'], points: bent }], 1.25), []);
  assert.equal(routeEdge(grid, nodes[0]!, nodes[1]!, new Set(['a', 'b']), 20).length, 2, 'straight');
});
