// SPDX-License-Identifier: Apache-2.0
// Test support: runs the starter as a user does (a child process, here `src/main.ts` under tsx with
// the workspace sources) and reads its JSON log lines. Used by this package's tests and by the
// end-to-end suites (test/e2e/support/starter.ts).
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { spawnJsonLinesChild } from '@cpkit/core/testing';

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
  const run = spawnJsonLinesChild(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', mainPath, ...args],
    {
      cwd: repoRoot,
      name: 'the starter',
      // tsx needs the base tsconfig for core's decorators (the root tsconfig.json lists no files).
      env: {
        ...process.env,
        CPKIT_LOG_LEVEL: 'info',
        TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.base.json'),
      },
    },
  );
  return {
    child: run.child,
    lines: run.lines as StarterLogLine[],
    exited: run.exited,
    waitFor: (message, timeoutMs = 30_000) =>
      run.waitFor(
        (line) => (typeof message === 'string' ? line.msg === message : message.test(String(line.msg))),
        `log line "${message}"`,
        timeoutMs,
      ) as Promise<StarterLogLine>,
  };
}
