import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Sluice's structured log: JSON lines on stderr (stdout stays for data, e.g. `sluice tail`).
 * Level from SLUICE_LOG_LEVEL (`debug`, `info`, `warn`, `error`, `silent`); default `info`.
 */
export const logger: Logger = pino(
  { name: 'sluice', level: process.env.SLUICE_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
  pino.destination({ dest: 2, sync: true }),
);
