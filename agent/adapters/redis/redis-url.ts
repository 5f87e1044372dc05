/**
 * Parses the agent's `--data-plane redis://[user:password@]host:port` flag. Only
 * database 0 is journaled and reconciled, so another database number is refused
 * rather than silently ignored.
 */

/** Where the adapter connects, and the endpoint it may show (never the credentials). */
export interface RedisTarget {
  host: string;
  port: number;
  username: string | null;
  password: string | null;
  /** `host:port`, safe to log and to report. */
  endpoint: string;
}

/** Parses a redis:// URL; throws an Error naming what is wrong. */
export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a URL: expected redis://host:port, got "${text.slice(0, 100)}"`);
  }
  if (url.protocol !== 'redis:') throw new Error(`unsupported scheme "${url.protocol}": expected redis://host:port`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new Error('redis URL has no host: expected redis://host:port');
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`redis URL has a bad port "${url.port}"`);
  const database = url.pathname.replace(/^\//, '');
  if (database !== '' && database !== '0') throw new Error(`only database 0 is supported (got /${database.slice(0, 20)})`);
  return {
    host,
    port,
    username: url.username ? decodeURIComponent(url.username) : null,
    password: url.password ? decodeURIComponent(url.password) : null,
    endpoint: `${host.includes(':') ? `[${host}]` : host}:${port}`,
  };
}
