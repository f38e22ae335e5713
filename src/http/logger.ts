import type { LoggerOptions } from 'pino';
import type { LogConfig } from '../config.js';

/** pino options for both servers: JSON lines by default, pino-pretty when LOG_FORMAT=pretty (npm start in a terminal). */
export function loggerOptions(log: LogConfig, name: string): LoggerOptions {
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
