// SPDX-License-Identifier: Apache-2.0
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isStatusError } from '../errors/status-error.js';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, ISO time, message and bound fields', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, name: 'single-node' });
    logger.child({ component: 'scheduler' }).info({ pod: 'default/web' }, 'bound pod');
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 30,
      name: 'single-node',
      component: 'scheduler',
      pod: 'default/web',
      msg: 'bound pod',
    });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it.each([
    ['info', ['info', 'warn']],
    ['warn', ['warn']],
    ['debug', ['debug', 'info', 'warn']],
    ['silent', []],
  ])('at level %s writes %j', (level, expected) => {
    const out = capture();
    const logger = createLogger({ level, destination: out.stream, base: {} });
    logger.debug('debug');
    logger.info('info');
    logger.warn('warn');
    expect(out.lines().map((line) => line.msg)).toEqual(expected);
  });

  it('defaults to CPKIT_LOG_LEVEL, then info', () => {
    const previous = process.env.CPKIT_LOG_LEVEL;
    try {
      process.env.CPKIT_LOG_LEVEL = 'error';
      expect(createLogger({ destination: capture().stream }).level).toBe('error');
      delete process.env.CPKIT_LOG_LEVEL;
      expect(createLogger({ destination: capture().stream }).level).toBe('info');
    } finally {
      if (previous === undefined) delete process.env.CPKIT_LOG_LEVEL;
      else process.env.CPKIT_LOG_LEVEL = previous;
    }
  });

  it('rejects an unknown level with a BadRequest naming the field', () => {
    let caught: unknown;
    try {
      createLogger({ level: 'verbose' });
    } catch (error) {
      caught = error;
    }
    expect(isStatusError(caught, 'BadRequest')).toBe(true);
    expect((caught as Error).message).toContain('invalid logger level "verbose"');
    expect((caught as { details?: { causes?: { field?: string }[] } }).details?.causes?.[0]?.field).toBe(
      'level',
    );
  });
});
