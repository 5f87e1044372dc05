/**
 * `tsx bench/load/profile-summary.ts <file.cpuprofile> [--top 40]`: self time per
 * function (name and file:line) of a V8 CPU profile, largest first, with its share of
 * the samples; a load run's server writes one with FAULTLINE_LOAD_CPU_PROF=<dir>, the
 * generator with `node --cpu-prof --import tsx scripts/load.ts …`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
const topIndex = process.argv.indexOf('--top');
const top = topIndex === -1 ? 40 : Number(process.argv[topIndex + 1]);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<string, number>();
let totalUs = 0;
profile.samples.forEach((id, index) => {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|wt\/[^/]+)\//, '')}:${frame.lineNumber + 1}:${frame.columnNumber + 1}` : '';
  const name = `${frame.functionName || '(anonymous)'} ${where}`;
  const delta = profile.timeDeltas[index] ?? 0;
  selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
  totalUs += delta;
});
console.log(`total ${(totalUs / 1e6).toFixed(1)} s sampled`);
for (const [name, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${name}`);
}
