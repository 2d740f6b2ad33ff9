// SPDX-License-Identifier: Apache-2.0
// Running the real kubectl (Debian package `kubectl`; /usr/bin/kubectl dispatches to 1.32 because the
// server reports v1.32.4) from the end-to-end suites, each session with its own HOME and cache dir.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const kubectlPath = '/usr/bin/kubectl';

/** What one kubectl run printed and how it exited. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl bound to one kubeconfig and a private working directory. */
export interface KubectlSession {
  /** Runs kubectl; never rejects (look at `code`). */
  run(...args: string[]): Promise<KubectlResult>;
  /** Runs kubectl, rejects with both outputs unless it exits 0, resolves with stdout. */
  ok(...args: string[]): Promise<string>;
  /** Runs kubectl with stdin. */
  runWithInput(input: string, ...args: string[]): Promise<KubectlResult>;
  /** A session with the same directory and options on another kubeconfig (another user). */
  as(kubeconfig: string): KubectlSession;
}

/** Options of {@link kubectlSession}. */
export interface KubectlSessionOptions {
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /**
   * A fresh `--cache-dir` for every run, so each run does its own discovery and OpenAPI requests
   * (default: one cache per session, as a user has).
   */
  freshCache?: boolean;
}

let cacheCount = 0;

/** Fails fast with the fix when kubectl is not installed. */
export function requireKubectl(): void {
  if (!existsSync(kubectlPath)) {
    throw new Error(
      `${kubectlPath} is missing: install the Debian package "kubectl" (apt-get install kubectl) to run these tests`,
    );
  }
}

/** A session on `kubeconfig`, keeping its HOME and `--cache-dir` under `dir` (fresh per suite). */
export function kubectlSession(
  kubeconfig: string,
  dir: string,
  options: KubectlSessionOptions = {},
): KubectlSession {
  requireKubectl();
  const env = options.env ?? {};
  const run = (input: string | undefined, args: string[]): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const cacheDir = join(dir, options.freshCache ? `cache-${++cacheCount}` : 'cache');
      const child = execFile(
        kubectlPath,
        ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--request-timeout=20s', ...args],
        { timeout: 40_000, env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig, ...env } },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  return {
    as: (other) => kubectlSession(other, dir, options),
    run: (...args) => run(undefined, args),
    runWithInput: (input, ...args) => run(input, args),
    async ok(...args) {
      const result = await run(undefined, args);
      if (result.code !== 0) {
        throw new Error(
          `kubectl ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
        );
      }
      return result.stdout;
    },
  };
}
