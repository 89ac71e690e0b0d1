/** The slice of a pino logger the worker uses, so a pino instance can be passed straight in. */
export interface WorkerLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

const noop = (): void => {};

/** Discards everything: the default when no logger is injected. */
export const silentLogger: WorkerLogger = { debug: noop, info: noop, warn: noop, error: noop };
