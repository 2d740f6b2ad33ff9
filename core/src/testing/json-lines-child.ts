// SPDX-License-Identifier: Apache-2.0
import { type ChildProcess, spawn } from 'node:child_process';

/** A child process whose stdout is read as JSON lines (pino logs, test scripts' reports). @category Testing */
export interface JsonLinesChild {
  child: ChildProcess;
  /** Every JSON line it printed so far (lines not starting with `{` are skipped). */
  lines: Record<string, unknown>[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /**
   * The first line for which `match` is true, already printed or still to come; rejects naming
   * `what` (and the child's stderr) after `timeoutMs` or when the child exits first.
   */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends `signal` (default SIGTERM) unless the child has ended, and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL (a crash) and wait for the end. */
  kill(): Promise<void>;
}

/** Options of {@link spawnJsonLinesChild}. @category Testing */
export interface JsonLinesChildOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Names the child in error messages. */
  name: string;
}

/**
 * Spawns `command args` and parses its stdout line by line as JSON, for tests that run parts of a
 * control plane as processes of their own and wait on what they log.
 * @category Testing
 */
export function spawnJsonLinesChild(
  command: string,
  args: readonly string[],
  options: JsonLinesChildOptions,
): JsonLinesChild {
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
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
  const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    lines,
    exited,
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
          reject(new Error(`${options.name}: no ${what} within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const listener = (): void => void check();
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        if (check()) return;
        listeners.add(listener);
        void exited.then((code) => {
          if (!listeners.has(listener)) return;
          cleanup();
          reject(new Error(`${options.name} exited (${code}) before ${what}; stderr: ${stderr}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!ended()) child.kill(signal);
      return exited;
    },
    async kill() {
      if (!ended()) child.kill('SIGKILL');
      await exited;
    },
  };
}
