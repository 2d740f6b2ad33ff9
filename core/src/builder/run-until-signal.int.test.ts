// SPDX-License-Identifier: Apache-2.0
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const helper = fileURLToPath(new URL('./signal-child.test-helper.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const tsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

interface Child {
  process: ChildProcess;
  lines: string[];
  waitFor(predicate: (line: string) => boolean): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(mode: string): Child {
  const child = spawn(tsx, ['--tsconfig', tsconfig, helper, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.predicate(line))) waiter.resolve(line);
      newline = buffer.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    process: child,
    lines,
    exit,
    waitFor: (predicate) => {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve });
        void exit.then(() =>
          reject(new Error(`child exited first; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)),
        );
      });
    },
  };
}

const messages = (child: Child): string[] =>
  child.lines.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('runUntilSignal in a real process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops in reverse order on %s and exits by itself',
    async (signal) => {
      const child = run('signal');
      await child.waitFor((line) => line.includes('"control plane started"'));
      child.process.kill(signal);
      const report = await child.waitFor((line) => line.startsWith('REPORT '));
      expect(await child.exit).toEqual({ code: 0, signal: null });
      expect(JSON.parse(report.slice('REPORT '.length))).toMatchObject({
        stopped: ['api', 'store'],
        timedOut: [],
      });
      expect(messages(child)).toEqual(
        expect.arrayContaining([`received ${signal}; stopping`, 'stopped runnable', 'control plane stopped']),
      );
    },
  );

  it('a second signal while stopping exits at once with code 130', async () => {
    const child = run('stuck');
    await child.waitFor((line) => line.includes('"control plane started"'));
    child.process.kill('SIGTERM');
    await child.waitFor((line) => line.includes('received SIGTERM; stopping'));
    child.process.kill('SIGINT');
    expect(await child.exit).toEqual({ code: 130, signal: null });
    expect(messages(child)).toContain('received SIGINT again while stopping; exiting now');
  });

  it('a failing toService binding is reported, not crashed on', async () => {
    const child = run('leak');
    const build = await child.waitFor((line) => line.startsWith('BUILD '));
    expect(build).toBe('BUILD cpkit wiring error: creating cpkit.Runnable failed: config file missing');
    await child.waitFor((line) => line === 'ALIVE');
    expect(await child.exit).toEqual({ code: 0, signal: null });
  });
});
