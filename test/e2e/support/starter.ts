// SPDX-License-Identifier: Apache-2.0
// Runs the single-node starter as a user does (`npm start`, i.e. a child process) for the end-to-end
// suites: free port, private data dir and kubeconfig, JSON logs parsed line by line.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../../..');
const mainPath = join(repoRoot, 'starters/single-node/src/main.ts');

/** One parsed pino log line of the starter. */
export interface StarterLogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

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
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      mainPath,
      '--data-dir',
      dataDir,
      '--api-port',
      String(options.port ?? 0),
      '--kubeconfig',
      kubeconfig,
      '--log-format',
      'json',
      ...(options.args ?? []),
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // tsx needs the base tsconfig for core's decorators (the root tsconfig.json lists no files).
      env: {
        ...process.env,
        CPKIT_LOG_LEVEL: 'info',
        TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.base.json'),
      },
    },
  );
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
