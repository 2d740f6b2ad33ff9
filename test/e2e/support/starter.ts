// SPDX-License-Identifier: Apache-2.0
// Runs the single-node starter as a user does (`npm start`, i.e. a child process) for the end-to-end
// suites: free port, private data dir and kubeconfig, JSON logs parsed line by line.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
// By path: test/package.json does not list the starter package (adding it would mean an npm install).
import { runStarter, type StarterLogLine } from '../../../starters/single-node/src/testing/run-starter.js';

import { type KubectlSession, kubectlSession } from './kubectl.js';

export type { StarterLogLine };

/** Options of {@link startSingleNode}. */
export interface SingleNodeOptions {
  /** Reuse a data directory (to restart on the same data); default: a fresh temp dir, removed on stop. */
  dataDir?: string;
  /** API port; default 0 (a free one). Pass the previous port to restart on the same address. */
  port?: number;
  /** Extra command-line arguments, e.g. `--in-memory` or `--store etcd://...`. */
  args?: string[];
}

/** A running starter. */
export interface SingleNode {
  child: ChildProcess;
  dataDir: string;
  kubeconfig: string;
  /** The API server URL from the "kubeconfig written" log line. */
  url: string;
  port: number;
  lines: StarterLogLine[];
  /** Resolves with the first log line whose message matches. */
  waitFor(message: string | RegExp, timeoutMs?: number): Promise<StarterLogLine>;
  /** SIGINT and wait for the exit; removes the data dir unless it was given. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash); keeps the data dir. */
  kill(): Promise<void>;
}

/** Starts `starters/single-node` and resolves once its API server listens and the kubeconfig exists. */
export async function startSingleNode(options: SingleNodeOptions = {}): Promise<SingleNode> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cpkit-e2e-starter-')));
  const kubeconfig = join(dataDir, 'kubeconfig');
  const { child, lines, waitFor, exited } = runStarter([
    '--data-dir',
    dataDir,
    '--api-port',
    String(options.port ?? 0),
    '--kubeconfig',
    kubeconfig,
    '--log-format',
    'json',
    ...(options.args ?? []),
  ]);
  const written = await waitFor(/^kubeconfig written/);
  const url = String(written.server);
  return {
    child,
    dataDir,
    kubeconfig,
    url,
    port: Number(new URL(url).port),
    lines,
    waitFor,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const code = await exited;
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
      return code;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** What {@link useStarterWithKubectl} gives a suite. */
export interface StarterWithKubectl {
  /** The running starter (from the suite's tests and later hooks on). */
  readonly node: SingleNode;
  /** kubectl on the starter's admin kubeconfig; usable as soon as the suite's beforeAll ran. */
  k: KubectlSession;
  /** Writes `text` to `name` in the starter's data dir and returns the path, for `kubectl -f`. */
  manifest(name: string, text: string): Promise<string>;
}

/**
 * For a suite: starts the starter (default: `--in-memory`) in beforeAll with a kubectl session on its
 * kubeconfig, and stops it in afterAll.
 */
export function useStarterWithKubectl(
  options: SingleNodeOptions = { args: ['--in-memory'] },
): StarterWithKubectl {
  let node: SingleNode | undefined;
  let session: KubectlSession | undefined;
  beforeAll(async () => {
    node = await startSingleNode(options);
    session = kubectlSession(node.kubeconfig, node.dataDir);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the starter runs from the suite beforeAll on');
    return value;
  };
  return {
    get node() {
      return need(node);
    },
    k: {
      run: (...args) => need(session).run(...args),
      ok: (...args) => need(session).ok(...args),
      runWithInput: (input, ...args) => need(session).runWithInput(input, ...args),
      as: (kubeconfig) => need(session).as(kubeconfig),
    },
    async manifest(name, text) {
      const path = join(need(node).dataDir, name);
      await writeFile(path, text);
      return path;
    },
  };
}
