import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogConfig } from '../config.js';

/** pino options for both servers: JSON lines by default, pino-pretty when LOG_FORMAT=pretty (npm start in a terminal). */
function loggerOptions(log: LogConfig, name: string): LoggerOptions {
  return {
    name,
    level: log.level,
    ...(log.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  };
}

/** Access lines cost half of Fastify's throughput, so they are logged only at debug and below. */
export const accessLogEnabled = (log: LogConfig): boolean => log.level === 'debug' || log.level === 'trace';

let stdout: DestinationStream | undefined;

/**
 * A server's logger. JSON lines go to stdout asynchronously, through one stream per process, so
 * no request waits for a write (a purchase logs two lines per server; logging at info costs 5-8%
 * of a purchase's CPU, measured with LOG_LEVEL=warn as the comparison). Lines logged while a write
 * is in flight leave together in the next one, and pino writes out what is left when the process
 * exits; after `kill -9` the last lines may be lost, never data.
 */
export function createLogger(log: LogConfig, name: string): Logger {
  const options = loggerOptions(log, name);
  if (log.pretty) return pino(options);
  stdout ??= pino.destination({ dest: 1, sync: false });
  return pino(options, stdout);
}
