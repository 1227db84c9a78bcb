// One structured logger style (pino) for server, agent and lab; child loggers per component.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Root logger: JSON lines on stderr; level from VNET_LOG_LEVEL (default info). */
export function createLogger(name: string, level = process.env.VNET_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}
