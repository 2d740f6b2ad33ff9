// SPDX-License-Identifier: Apache-2.0
// Test support: runs the starter as a user does (a child process, here `src/main.ts` under tsx with
// the workspace sources) and reads its JSON log lines. Used by this package's tests and by the
// end-to-end suites (test/e2e/support/starter.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

// The same from src/testing and dist/testing.
const repoRoot = resolve(import.meta.dirname, '../../../..');
const mainPath = resolve(import.meta.dirname, '../../src/main.ts');

/** One parsed pino log line of the starter. */
export interface StarterLogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

/** A started starter process. */
export interface StarterRun {
  child: ChildProcess;
  /** Every JSON line it printed so far. */
  lines: StarterLogLine[];
  /** Resolves with the first log line whose message matches (already printed or still to come). */
  waitFor(message: string | RegExp, timeoutMs?: number): Promise<StarterLogLine>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `starters/single-node/src/main.ts` with `args` from the repository root, logging at info. */
export function runStarter(args: string[]): StarterRun {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', mainPath, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // tsx needs the base tsconfig for core's decorators (the root tsconfig.json lists no files).
    env: {
      ...process.env,
      CPKIT_LOG_LEVEL: 'info',
      TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.base.json'),
    },
  });
  const lines: StarterLogLine[] = [];
  const waiters: { match: (line: StarterLogLine) => boolean; resolve: (line: StarterLogLine) => void }[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!text.trim().startsWith('{')) continue;
      const line = JSON.parse(text) as StarterLogLine;
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  const waitFor = (message: string | RegExp, timeoutMs = 30_000): Promise<StarterLogLine> => {
    const match = (line: StarterLogLine): boolean =>
      typeof message === 'string' ? line.msg === message : message.test(line.msg);
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no log line "${message}" within ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolveLine(line);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`starter exited (${code}) before logging "${message}"; stderr: ${stderr}`));
      });
    });
  };
  return { child, lines, waitFor, exited };
}
