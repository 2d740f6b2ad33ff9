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
}

/** Fails fast with the fix when kubectl is not installed. */
export function requireKubectl(): void {
  if (!existsSync(kubectlPath)) {
    throw new Error(
      `${kubectlPath} is missing: install the Debian package "kubectl" (apt-get install kubectl) to run these tests`,
    );
  }
}

/** A session on `kubeconfig`, keeping its HOME and `--cache-dir` under `dir` (fresh per suite). */
export function kubectlSession(kubeconfig: string, dir: string, env: NodeJS.ProcessEnv = {}): KubectlSession {
  requireKubectl();
  const run = (input: string | undefined, args: string[]): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const child = execFile(
        kubectlPath,
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '--request-timeout=20s', ...args],
        { timeout: 40_000, env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig, ...env } },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  return {
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
