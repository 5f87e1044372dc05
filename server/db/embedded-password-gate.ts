/**
 * The password in front of the embedded database. PGlite's socket server answers
 * every startup message with AuthenticationOk, whatever the user name, as the
 * superuser: it has no authentication of its own. So it listens only on a Unix
 * socket in a 0700 directory, and this gate listens on loopback TCP, runs a real
 * PostgreSQL SCRAM-SHA-256 exchange (what libpq and node-postgres speak; the
 * password never crosses the socket), checks the user name, and only then splices
 * the client onto the Unix socket. A wrong password or user gets the server's own
 * error (28P01) and is closed.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { Logger } from '../logger';

/** Longest a client may take to finish authenticating (ms); a silent connection must not hold a slot. */
export const authenticationTimeoutMs = 5000;
/** Largest startup or authentication message accepted (bytes); real ones are a few hundred. */
const authenticationMessageBytesMax = 16 * 1024;
/** PBKDF2 rounds of the SCRAM verifier (PostgreSQL's default). */
const scramIterations = 4096;
/** Connections the gate holds at once, authenticated or not. */
const gateConnectionsMax = 32;

const protocolVersion3 = 196_608;
const sslRequestCode = 80_877_103;
const gssEncryptionRequestCode = 80_877_104;

/** The SCRAM verifier of one password: what the server keeps instead of the password. */
interface ScramVerifier {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

function scramVerifier(password: string): ScramVerifier {
  const salt = randomBytes(16);
  const saltedPassword = pbkdf2Sync(password.normalize('NFKC'), salt, scramIterations, 32, 'sha256');
  return {
    salt,
    storedKey: createHash('sha256').update(hmac(saltedPassword, 'Client Key')).digest(),
    serverKey: hmac(saltedPassword, 'Server Key'),
  };
}

/** Parses `a=1,b=2` SCRAM attributes. */
function scramAttributes(text: string): Map<string, string> {
  return new Map(text.split(',').map((part) => [part.slice(0, 1), part.slice(2)] as const));
}

/**
 * Checks a client-final message against the verifier; returns the server's final
 * message (its signature) when the proof holds, null otherwise.
 */
function verifyClientFinal(verifier: ScramVerifier, clientFirstBare: string, serverFirst: string, clientFinal: string, nonce: string): string | null {
  const proofAt = clientFinal.lastIndexOf(',p=');
  if (proofAt < 0) return null;
  const withoutProof = clientFinal.slice(0, proofAt);
  const attributes = scramAttributes(withoutProof);
  if (attributes.get('r') !== nonce || attributes.get('c') !== Buffer.from('n,,').toString('base64')) return null;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
  const signature = hmac(verifier.storedKey, authMessage);
  if (proof.length !== signature.length) return null;
  const clientKey = Buffer.from(proof.map((byte, index) => byte ^ signature[index]!));
  const storedKey = createHash('sha256').update(clientKey).digest();
  if (!timingSafeEqual(storedKey, verifier.storedKey)) return null;
  return `v=${hmac(verifier.serverKey, authMessage).toString('base64')}`;
}

function authenticationMessage(kind: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.write('R', 0);
  header.writeInt32BE(8 + payload.length, 1);
  header.writeInt32BE(kind, 5);
  return Buffer.concat([header, payload]);
}

function fatalError(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

/** Reads whole protocol messages off a socket that has not been spliced yet. */
class MessageReader {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private ended = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.once('close', () => {
      this.ended = true;
      this.waiting?.();
    });
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    if (this.buffered.length > authenticationMessageBytesMax) this.socket.destroy();
    this.waiting?.();
  };

  /** The next message: untyped (startup, length first) or typed (one tag byte, then length). */
  async next(typed: boolean): Promise<Buffer> {
    const offset = typed ? 1 : 0;
    for (;;) {
      if (this.buffered.length >= offset + 4) {
        const length = this.buffered.readInt32BE(offset);
        if (length < 4 || length > authenticationMessageBytesMax) throw new Error('malformed message');
        if (this.buffered.length >= offset + length) {
          const message = this.buffered.subarray(0, offset + length);
          this.buffered = this.buffered.subarray(offset + length);
          return message;
        }
      }
      if (this.ended) throw new Error('connection closed');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = null;
    }
  }

  /** Stops reading and returns whatever arrived past the last message. */
  release(): Buffer {
    this.socket.off('data', this.onData);
    return this.buffered;
  }
}

/** Parses a v3 startup message's parameters (user, database, ...). */
function startupParameters(message: Buffer): Map<string, string> {
  const parts = message.subarray(8).toString('utf8').split('\0');
  const parameters = new Map<string, string>();
  for (let index = 0; index + 1 < parts.length; index += 2) if (parts[index]) parameters.set(parts[index]!, parts[index + 1]!);
  return parameters;
}

/** Reads the startup message, answering SSL and GSS encryption requests with "no". */
async function readStartup(reader: MessageReader, socket: Socket): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const message = await reader.next(false);
    const code = message.readInt32BE(4);
    if (code === sslRequestCode || code === gssEncryptionRequestCode) {
      socket.write('N');
      continue;
    }
    if (code !== protocolVersion3) throw new Error(`unsupported protocol ${code}`);
    return message;
  }
  throw new Error('no startup message');
}

/** Runs SCRAM-SHA-256 with the client; true when it proved the password and named the right user. */
async function authenticate(reader: MessageReader, socket: Socket, user: string, verifier: ScramVerifier, startup: Buffer): Promise<boolean> {
  socket.write(authenticationMessage(10, Buffer.from('SCRAM-SHA-256\0\0')));
  const initial = await reader.next(true);
  if (initial[0] !== 0x70) return false;
  const mechanismEnd = initial.indexOf(0, 5);
  if (initial.subarray(5, mechanismEnd).toString() !== 'SCRAM-SHA-256') return false;
  const clientFirst = initial.subarray(mechanismEnd + 5).toString('utf8');
  if (!clientFirst.startsWith('n,,')) return false; // Channel binding needs TLS, which this loopback gate does not offer.
  const clientFirstBare = clientFirst.slice(3);
  const clientNonce = scramAttributes(clientFirstBare).get('r');
  if (!clientNonce) return false;
  const nonce = `${clientNonce}${randomBytes(18).toString('base64')}`;
  const serverFirst = `r=${nonce},s=${verifier.salt.toString('base64')},i=${scramIterations}`;
  socket.write(authenticationMessage(11, Buffer.from(serverFirst)));
  const response = await reader.next(true);
  if (response[0] !== 0x70) return false;
  const serverFinal = verifyClientFinal(verifier, clientFirstBare, serverFirst, response.subarray(5).toString('utf8'), nonce);
  if (!serverFinal || startupParameters(startup).get('user') !== user) return false;
  socket.write(authenticationMessage(12, Buffer.from(serverFinal)));
  return true;
}

/** A running gate. */
export interface PasswordGate {
  /** The loopback TCP port clients connect to. */
  port: number;
  stop(): Promise<void>;
}

/** Listens on `host:port` and splices authenticated clients onto the Unix socket at `backendPath`. */
export async function startPasswordGate(options: { host: string; port: number; backendPath: string; user: string; password: string; logger: Logger }): Promise<PasswordGate> {
  const verifier = scramVerifier(options.password);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    void admit(client, options, verifier, sockets);
  });
  server.maxConnections = gateConnectionsMax;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function admit(client: Socket, options: { backendPath: string; user: string; logger: Logger }, verifier: ScramVerifier, sockets: Set<Socket>): Promise<void> {
  const reader = new MessageReader(client);
  const timer = setTimeout(() => client.destroy(), authenticationTimeoutMs);
  try {
    const startup = await readStartup(reader, client);
    if (!(await authenticate(reader, client, options.user, verifier, startup))) {
      options.logger.warn({ user: startupParameters(startup).get('user') ?? null }, 'embedded database: authentication refused');
      client.end(fatalError('28P01', `password authentication failed for user "${startupParameters(startup).get('user') ?? ''}"`));
      return;
    }
    const backend = connect(options.backendPath);
    sockets.add(backend);
    backend.once('close', () => {
      sockets.delete(backend);
      client.destroy();
    });
    client.once('close', () => backend.destroy());
    backend.on('error', () => backend.destroy());
    backend.write(startup);
    const rest = reader.release();
    if (rest.length > 0) backend.write(rest);
    client.pipe(backend);
    backend.pipe(client);
  } catch {
    client.destroy();
  } finally {
    clearTimeout(timer);
  }
}
