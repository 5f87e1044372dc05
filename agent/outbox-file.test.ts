/**
 * Proves the durable outbox keeps its promises: entries leave in order and only
 * when removed; everything appended survives a reopen (and a kill -9 in the middle
 * of appending, in a real child process); a torn last record is cut off, not
 * trusted; the bound drops the oldest entries, keeps the newest and remembers the
 * drop count across restarts; acknowledged segment files are deleted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AgentReport } from '../core/protocol';
import { FileOutbox } from './outbox-file';

const directories: string[] = [];
async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'faultline-outbox-'));
  directories.push(directory);
  return directory;
}
after(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

function report(sequence: number): AgentReport {
  return {
    clusterId: 'c',
    agentId: 'a',
    incarnation: 1,
    sequence,
    sentAtMs: 1_700_000_000_000 + sequence,
    heartbeatIntervalMs: 100,
    observations: [{ peerId: 'b', reachable: sequence % 2 === 0, lastHeardAtMs: null, sinceMs: 0, suspicion: 0 }],
    evidence: [],
  };
}

describe('FileOutbox', () => {
  it('hands out entries oldest first and removes only what is acknowledged', async () => {
    const outbox = await FileOutbox.open({ directory: await freshDirectory() });
    for (let sequence = 1; sequence <= 5; sequence += 1) await outbox.append(report(sequence));
    assert.deepEqual((await outbox.peekBatch(3)).map((entry) => entry.report.sequence), [1, 2, 3]);
    const first = await outbox.peek();
    await outbox.remove(first!.id);
    assert.equal((await outbox.peek())!.report.sequence, 2);
    assert.equal(outbox.depth(), 4);
    await outbox.close();
  });

  it('recovers every unacknowledged entry after a reopen, in order', async () => {
    const directory = await freshDirectory();
    const outbox = await FileOutbox.open({ directory });
    for (let sequence = 1; sequence <= 50; sequence += 1) await outbox.append(report(sequence));
    for (const entry of await outbox.peekBatch(20)) await outbox.remove(entry.id);
    await outbox.close();
    const reopened = await FileOutbox.open({ directory });
    assert.equal(reopened.depth(), 30);
    assert.deepEqual((await reopened.peekBatch(100)).map((entry) => entry.report.sequence), Array.from({ length: 30 }, (_, index) => index + 21));
    await reopened.append(report(51));
    const ids = (await reopened.peekBatch(100)).map((entry) => entry.id);
    assert.ok(ids.every((id, index) => index === 0 || id === ids[index - 1]! + 1), 'ids stay contiguous across a reopen');
    await reopened.close();
  });

  it('cuts off a torn last record instead of trusting it', async () => {
    const directory = await freshDirectory();
    const outbox = await FileOutbox.open({ directory });
    for (let sequence = 1; sequence <= 3; sequence += 1) await outbox.append(report(sequence));
    await outbox.close();
    const [segment] = (await readdir(directory)).filter((name) => name.startsWith('segment-'));
    await appendFile(path.join(directory, segment!), '0123456789abcdef {"id":4,"report":{"clus');
    const reopened = await FileOutbox.open({ directory });
    assert.equal(reopened.depth(), 3);
    await reopened.append(report(4));
    await reopened.close();
    const again = await FileOutbox.open({ directory });
    assert.deepEqual((await again.peekBatch(10)).map((entry) => entry.report.sequence), [1, 2, 3, 4]);
    await again.close();
  });

  it('when full keeps the newest entries and counts the dropped ones, across restarts', async () => {
    const directory = await freshDirectory();
    const outbox = await FileOutbox.open({ directory, entriesMax: 10, segmentBytesMax: 2048 });
    for (let sequence = 1; sequence <= 25; sequence += 1) await outbox.append(report(sequence));
    assert.equal(outbox.depth(), 10);
    assert.equal(outbox.droppedCount(), 15);
    assert.equal((await outbox.peek())!.report.sequence, 16);
    await outbox.close();
    const reopened = await FileOutbox.open({ directory, entriesMax: 10, segmentBytesMax: 2048 });
    assert.equal(reopened.droppedCount(), 15);
    assert.deepEqual((await reopened.peekBatch(10)).map((entry) => entry.report.sequence), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    await reopened.close();
  });

  it('deletes segment files once all their entries are acknowledged', async () => {
    const directory = await freshDirectory();
    const outbox = await FileOutbox.open({ directory, segmentBytesMax: 1024 });
    for (let sequence = 1; sequence <= 40; sequence += 1) await outbox.append(report(sequence));
    const before = (await readdir(directory)).filter((name) => name.startsWith('segment-')).length;
    assert.ok(before > 3, `expected several segments, got ${before}`);
    for (const entry of await outbox.peekBatch(40)) await outbox.remove(entry.id);
    await outbox.close();
    const remaining = (await readdir(directory)).filter((name) => name.startsWith('segment-')).length;
    assert.equal(remaining, 1, 'only the segment being written survives');
    const reopened = await FileOutbox.open({ directory, segmentBytesMax: 1024 });
    assert.equal(reopened.depth(), 0);
    await reopened.close();
  });

  it('loses nothing whose append resolved when the process is killed with SIGKILL', async () => {
    const directory = await freshDirectory();
    const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'outbox-writer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', writer, directory], { stdio: ['ignore', 'pipe', 'inherit'] });
    let confirmed = 0;
    let buffered = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) confirmed = Math.max(confirmed, Number(line));
        if (confirmed >= 200 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const reopened = await FileOutbox.open({ directory });
    const sequences = (await reopened.peekBatch(100_000)).map((entry) => entry.report.sequence);
    console.log(`outbox kill -9: confirmed ${confirmed}, recovered ${sequences.length}`);
    assert.ok(sequences.length >= confirmed, `every confirmed append survives (${sequences.length} >= ${confirmed})`);
    assert.deepEqual(sequences, Array.from({ length: sequences.length }, (_, index) => index + 1), 'in order, no gaps, no duplicates');
    await reopened.close();
  });
});
