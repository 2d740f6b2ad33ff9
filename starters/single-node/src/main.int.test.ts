// SPDX-License-Identifier: Apache-2.0
// Runs the starter as a user does (a child process), stops it with SIGINT, and starts it again on the
// same data directory.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Lease } from '@cpkit/core';
import { startEtcdCluster, startTestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { openEtcdStore } from '@cpkit/store-etcd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStarter as runStarterProcess, type StarterRun } from './testing/run-starter.js';

const execFileAsync = promisify(execFile);
let kubeconfigCount = 0;
const kubeconfigs: string[] = [];

/** Runs the starter on a free port with a kubeconfig of its own. */
function runStarter(args: string[]): StarterRun {
  // A free port and a kubeconfig of its own per run, so runs never collide with each other or with
  // a control plane the developer has running.
  const kubeconfig = join(tmpdir(), `cpkit-single-node-test-${process.pid}-${++kubeconfigCount}.kubeconfig`);
  kubeconfigs.push(kubeconfig);
  return runStarterProcess(['--api-port', '0', '--kubeconfig', kubeconfig, ...args]);
}

describe('single-node starter', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cpkit-single-node-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await Promise.all(kubeconfigs.map((path) => rm(path, { force: true })));
  });

  it('starts, says what it does, stops on SIGINT, and starts again with its data intact', async () => {
    const first = runStarter(['--data-dir', dataDir]);
    await first.waitFor('control plane started');
    await first.waitFor('created system namespaces: default, kube-system, kube-public, kube-node-lease');
    // The real kubectl talks to it through the kubeconfig the starter wrote.
    const written = await first.waitFor(/^kubeconfig written/);
    const { stdout } = await execFileAsync(
      'kubectl',
      [
        '--kubeconfig',
        String(written.kubeconfig),
        '--cache-dir',
        join(dataDir, 'kubectl-cache'),
        'get',
        'namespaces',
        '-o',
        'name',
      ],
      { timeout: 60_000 },
    );
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual([
      'namespace/default',
      'namespace/kube-node-lease',
      'namespace/kube-public',
      'namespace/kube-system',
    ]);
    // HTTPS, and the kubeconfig's client certificate is the administrator.
    expect(String(written.server)).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.lines.some((l) => l.msg === `API server listening on ${String(written.server)}`)).toBe(true);
    const whoami = await execFileAsync(
      'kubectl',
      [
        '--kubeconfig',
        String(written.kubeconfig),
        '--cache-dir',
        join(dataDir, 'kubectl-cache-2'),
        'auth',
        'whoami',
      ],
      { timeout: 60_000 },
    );
    expect(whoami.stdout).toMatch(/Username\s+kubernetes-admin/);
    expect(whoami.stdout).toMatch(/Groups\s+\[system:masters system:authenticated\]/);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'received SIGINT; stopping',
        'control plane stopped',
        `closed embedded store in ${dataDir}`,
      ]),
    );

    // The data is on disk: the namespaces exist and the Lease was released on shutdown.
    const inspect = await startTestControlPlane({ store: await openEmbeddedStore({ path: dataDir }) });
    try {
      const defaultNamespace = await inspect.client.get('namespaces', 'default');
      expect(defaultNamespace.metadata?.uid).toBeTruthy();
      const lease = await inspect.client.get<Lease>('leases', 'cpkit-single-node', {
        namespace: 'kube-system',
      });
      expect(lease.spec?.holderIdentity ?? '').toBe('');
    } finally {
      await inspect.stop();
    }

    const second = runStarter(['--data-dir', dataDir]);
    await second.waitFor('control plane started');
    await second.waitFor('system namespaces present');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);

  it('runs on a real etcd with --store etcd://... and keeps its data there across restarts', async () => {
    const cluster = await startEtcdCluster({ members: 1 });
    try {
      const url = `etcd://${cluster.endpoints.map((e) => new URL(e).host).join(',')}?prefix=/starter-test`;
      const first = runStarter(['--store', url]);
      await first.waitFor('control plane started');
      await first.waitFor('created system namespaces: default, kube-system, kube-public, kube-node-lease');
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const inspect = await startTestControlPlane({
        store: await openEtcdStore({ endpoints: cluster.endpoints, prefix: '/starter-test' }),
      });
      try {
        const lease = await inspect.client.get<Lease>('leases', 'cpkit-single-node', {
          namespace: 'kube-system',
        });
        expect(lease.spec?.holderIdentity ?? '').toBe('');
      } finally {
        await inspect.stop();
      }

      const second = runStarter(['--store', url]);
      await second.waitFor('control plane started');
      await second.waitFor('system namespaces present');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  it('fails fast with the endpoints named when etcd is unreachable', async () => {
    const run = runStarter(['--store', 'etcd://127.0.0.1:9?dialTimeoutMs=1000']);
    expect(await run.exited).toBe(1);
    const fatal = run.lines.find((line) => line.level === 60);
    expect(fatal?.msg).toMatch(/cannot open the store: .*127\.0\.0\.1:9/);
  }, 30_000);

  it('rejects a bad option with a precise message and a non-zero exit', async () => {
    const run = runStarter(['--log-level', 'loud']);
    const stderr: string[] = [];
    run.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    expect(await run.exited).not.toBe(0);
    expect(stderr.join('')).toMatch(/--log-level.*loud/s);
  }, 30_000);
});
