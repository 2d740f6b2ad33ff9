// SPDX-License-Identifier: Apache-2.0
import pino from 'pino';
import { errors } from '../errors/status-error.js';

/**
 * Service identifier of the process-wide logger. Inject it (`@inject(Logger) logger: Logger`) and make a
 * child per component: `logger.child({ component: 'scheduler' })`. The control-plane builder binds a
 * default (JSON to stdout at `info`) when no module binds one.
 * @category Observability
 */
export const Logger = Symbol.for('cpkit.Logger');

/**
 * cpkit's logger type: a pino logger. Every line is one JSON object (`level`, `time`, `msg`, plus bound
 * fields such as `component`).
 * @category Observability
 */
export type Logger = pino.Logger;

/** Options of {@link createLogger}. @category Observability */
export interface LoggerOptions {
  /**
   * Lowest level written: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`.
   * Default: the `CPKIT_LOG_LEVEL` environment variable, else `info`.
   */
  level?: string;
  /** Written as the `name` field of every line, e.g. the starter's name. Default: none. */
  name?: string;
  /** Fields bound into every line. Default: `pid` and `hostname`, as pino does. */
  base?: Record<string, unknown>;
  /** Where lines go. Default: stdout (synchronously, so nothing is lost on exit). */
  destination?: pino.DestinationStream;
}

const levels: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * Creates a JSON logger. No pretty-printing is built in: pipe the output through `pino-pretty` when a
 * human reads it.
 *
 * @throws StatusError `BadRequest` naming `level` when the level is not one of pino's.
 * @category Observability
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.CPKIT_LOG_LEVEL ?? 'info';
  if (!levels.includes(level)) {
    throw errors.badRequest(`invalid logger level "${level}": must be one of ${levels.join(', ')}`, [
      { reason: 'FieldValueNotSupported', message: `unsupported value "${level}"`, field: 'level' },
    ]);
  }
  const pinoOptions: pino.LoggerOptions = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.name !== undefined) pinoOptions.name = options.name;
  if (options.base !== undefined) pinoOptions.base = options.base;
  return pino(pinoOptions, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
