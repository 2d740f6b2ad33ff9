// SPDX-License-Identifier: Apache-2.0
// Runs a TypeScript file of this repository as a child process (tsx, workspace sources), and reads
// its stdout as JSON lines: for the e2e suites that put parts of a control plane in other processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** A running child: its JSON output lines and ways to wait for them and to stop it. */
export interface TsxChild {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** The first JSON line for which `match` is true (already printed or still to come). */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash). */
  kill(): Promise<void>;
}

/** Starts `node --conditions=source --import tsx <script> ...args` from the repository root. */
export function startTsxChild(script: string, args: string[], env: Record<string, string> = {}): TsxChild {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // tsx needs the base tsconfig for core's decorators (the root tsconfig.json lists no files).
    env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.base.json'), ...env },
  });
  const lines: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const text = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (text.startsWith('{')) lines.push(JSON.parse(text) as Record<string, unknown>);
    }
    for (const listener of [...listeners]) listener();
  });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return {
    child,
    lines,
    waitFor(match, what, timeoutMs = 60_000) {
      return new Promise((resolveLine, reject) => {
        const check = (): boolean => {
          const found = lines.find(match);
          if (!found) return false;
          cleanup();
          resolveLine(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${script}: no ${what} within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (): void => void check();
        if (check()) return;
        listeners.add(listener);
        void exited.then((code) => {
          if (!listeners.has(listener)) return;
          cleanup();
          reject(new Error(`${script} exited (${code}) before ${what}; stderr: ${stderr}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
