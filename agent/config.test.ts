/**
 * Proves how the agent reads its control servers: one URL, several
 * comma-separated (several instances on one database) or a list in the config
 * file, trailing slashes dropped; an entry that is not a URL, or more than
 * `serverUrlsMax`, is refused naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadAgentConfig } from './config';
import { serverUrlsMax } from './server-link';

const env = { NODE_ENV: 'test' as const, FAULTLINE_AGENT_TOKEN: 'agent-token-0123456789', FAULTLINE_CLUSTER_KEY: 'cluster-key-0123456789' };
const flags = (server: string) => ['--id', 'n1', '--listen', '127.0.0.1:7946', '--peers', 'n2=127.0.0.1:7947', '--server', server];

describe('agent configuration: control server URLs', () => {
  it('takes one URL or several, in order, without trailing slashes', () => {
    assert.deepEqual(loadAgentConfig(flags('http://a:3000/'), env).serverUrls, ['http://a:3000']);
    assert.deepEqual(loadAgentConfig(flags('http://a:3000, http://b:3001/,http://c:3002'), env).serverUrls, ['http://a:3000', 'http://b:3001', 'http://c:3002']);
  });

  it('takes a list from the config file', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'agent-config-'));
    try {
      const file = path.join(directory, 'agent.json');
      await writeFile(file, JSON.stringify({ id: 'n1', listen: '127.0.0.1:7946', peers: 'n2=127.0.0.1:7947', server: ['http://a:3000', 'http://b:3001'] }));
      assert.deepEqual(loadAgentConfig(['--config', file], env).serverUrls, ['http://a:3000', 'http://b:3001']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses an entry that is not a URL, and too many, naming the field', () => {
    assert.throws(() => loadAgentConfig(flags('http://a:3000,not a url'), env), /server\.1: /);
    const many = Array.from({ length: serverUrlsMax + 1 }, (_, index) => `http://s${index}:3000`).join(',');
    assert.throws(() => loadAgentConfig(flags(many), env), /server: /);
  });
});
