/**
 * Test helper process: appends reports to a FileOutbox in DIRECTORY as fast as it
 * can and prints each confirmed sequence number, until it is killed.
 */
import { FileOutbox } from '../outbox-file';

const directory = process.argv[2];
if (!directory) throw new Error('usage: outbox-writer DIRECTORY');
const outbox = await FileOutbox.open({ directory });
for (let sequence = 1; sequence <= 100_000; sequence += 1) {
  await outbox.append({
    clusterId: 'c',
    agentId: 'a',
    incarnation: 1,
    sequence,
    sentAtMs: Date.now(),
    heartbeatIntervalMs: 100,
    observations: [],
    evidence: [],
  });
  process.stdout.write(`${sequence}\n`);
}
