/** Structured JSON logging for the control server (pino). */
import pino from 'pino';

export type Logger = pino.Logger;

/** Creates the root logger; children add a `component` field. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'faultline-server' } });
}
