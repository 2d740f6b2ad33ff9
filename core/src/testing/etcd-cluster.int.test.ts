// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdCluster, startEtcdCluster, startEtcdFromSnapshot } from './etcd-cluster.js';

/** True when something accepts HTTP on `url` and answers `/health`. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(`${url}/health`, { timeout: 1_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

describe('startEtcdCluster (one member)', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcdCluster({ name: 'single' });
  });
  afterAll(() => etcd?.stop());

  it('serves clients on a loopback endpoint and keeps data in its temp dir', async () => {
    expect(etcd.endpoints).toHaveLength(1);
    expect(etcd.endpoints[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(etcd.members[0].dataDir.startsWith(etcd.dataRoot)).toBe(true);
    expect(etcd.dataRoot.startsWith(tmpdir())).toBe(true);
    await etcd.etcdctl(['put', '/probe', 'one']);
    expect(await etcd.etcdctl(['get', '/probe', '--print-value-only'])).toBe('one\n');
    expect(await answers(etcd.endpoints[0])).toBe(true);
    expect(await etcd.leader()).toBe(etcd.members[0]);
  });

  it('stop(), then restart() on the same data dir and port keeps the data', async () => {
    const member = etcd.members[0];
    expect(member.pid).toEqual(expect.any(Number));
    await member.stop();
    expect(member.running).toBe(false);
    expect(member.pid).toBeUndefined();
    expect(await answers(member.clientUrl)).toBe(false);
    await member.stop(); // no-op when stopped
    await member.restart();
    expect(member.running).toBe(true);
    expect(await etcd.etcdctl(['get', '/probe', '--print-value-only'])).toBe('one\n');
  });

  it('restart() of a running member fails and names it', async () => {
    await expect(etcd.members[0].restart()).rejects.toMatchObject({
      reason: 'BadRequest',
      message: expect.stringContaining('m0'),
    });
  });

  it('a snapshot restores into a new member with the same keys', async () => {
    const snapshot = join(etcd.dataRoot, 'backup.db');
    await etcd.etcdctl(['snapshot', 'save', snapshot]);
    const restored = await startEtcdFromSnapshot(snapshot);
    try {
      expect(restored.endpoints[0]).not.toBe(etcd.endpoints[0]);
      expect(await restored.etcdctl(['get', '/probe', '--print-value-only'])).toBe('one\n');
    } finally {
      await restored.stop();
    }
    expect(existsSync(restored.dataRoot)).toBe(false);
  });

  it('stop() kills the member, deletes the temp dir and is idempotent', async () => {
    const other = await startEtcdCluster({ name: 'short' });
    await other.stop();
    await other.stop();
    expect(existsSync(other.dataRoot)).toBe(false);
    expect(other.members[0].running).toBe(false);
    expect(await answers(other.endpoints[0])).toBe(false);
  });
});

describe('startEtcdCluster (three members)', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcdCluster({ members: 3, name: 'trio' });
  });
  afterAll(() => etcd?.stop());

  it('forms one cluster with distinct ports', async () => {
    expect(new Set([...etcd.endpoints, ...etcd.members.map((member) => member.peerUrl)]).size).toBe(6);
    const list = await etcd.etcdctl(['member', 'list']);
    expect(list.trim().split('\n')).toHaveLength(3);
  });

  it('after kill -9 of the leader another member leads; the killed one rejoins on restart', async () => {
    await etcd.etcdctl(['put', '/before', '1']);
    const old = await etcd.leader();
    await old.kill();
    expect(old.running).toBe(false);
    const next = await etcd.leader();
    expect(next).not.toBe(old);
    await etcd.etcdctl(['put', '/during', '2']);
    await old.restart();
    expect(old.running).toBe(true);
    // A serializable read answers from the member's own copy: it has caught up with the write it missed.
    const read = await etcd.etcdctl([
      `--endpoints=${old.clientUrl}`,
      'get',
      '/during',
      '--print-value-only',
      '--consistency=s',
    ]);
    expect(read).toBe('2\n');
  });
});

describe('startEtcdCluster (TLS)', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcdCluster({ tls: true, name: 'tls' });
  });
  afterAll(() => etcd?.stop());

  it('serves https with client certificates only', async () => {
    const tls = etcd.tls;
    expect(tls).toBeDefined();
    if (!tls) return;
    expect(etcd.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await etcd.etcdctl(['put', '/secure', 'yes']);
    expect(await etcd.etcdctl(['get', '/secure', '--print-value-only'])).toBe('yes\n');
    const status = (withCertificate: boolean): Promise<number | string> =>
      new Promise((resolve) => {
        const req = httpsRequest(
          `${etcd.endpoints[0]}/v3/kv/range`,
          {
            method: 'POST',
            ca: readFileSync(tls.ca),
            ...(withCertificate ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : {}),
            agent: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', (error) => resolve(error.message));
        req.end(JSON.stringify({ key: Buffer.from('/secure').toString('base64') }));
      });
    expect(await status(true)).toBe(200);
    expect(await status(false)).not.toBe(200);
  });
});

describe('startEtcdCluster (bad input and cleanup)', () => {
  it.each([
    [{ members: 2 as 1 }, 'members: must be 1 or 3'],
    [{ startTimeoutMs: -1 }, 'startTimeoutMs: must be a positive number'],
    [{ name: 'a/b' }, 'name: must be'],
  ])('rejects %j', async (options, message) => {
    await expect(startEtcdCluster(options)).rejects.toMatchObject({
      reason: 'BadRequest',
      message: expect.stringContaining(message),
    });
  });

  it('names the Debian package when etcd is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'cpkit-empty-path-'));
    try {
      await expect(startEtcdCluster()).rejects.toThrow(
        /etcd not found.*install the Debian package etcd-server/,
      );
    } finally {
      rmSync(process.env.PATH, { recursive: true, force: true });
      process.env.PATH = path;
    }
  });

  it('rejects a missing snapshot file', async () => {
    await expect(startEtcdFromSnapshot('/nonexistent/snap.db')).rejects.toMatchObject({
      reason: 'BadRequest',
    });
  });

  // A test process that ends without stop() (a crash, or vitest terminating its worker) must not
  // leave etcd running or temp dirs behind.
  it.each([
    ['exits without stop()', 'process.exit(0)'],
    ['gets SIGTERM', 'process.kill(process.pid, "SIGTERM")'],
  ])('kills its members when the process %s', async (_, ending) => {
    const helper = fileURLToPath(new URL('./etcd-cluster.ts', import.meta.url));
    const directory = mkdtempSync(join(tmpdir(), 'cpkit-etcd-exit-'));
    const script = join(directory, 'script.mts');
    writeFileSync(
      script,
      `import { startEtcdCluster } from ${JSON.stringify(helper)};\n` +
        `const etcd = await startEtcdCluster({ name: 'orphan' });\n` +
        `process.stdout.write(JSON.stringify({ endpoint: etcd.endpoints[0], root: etcd.dataRoot }) + '\\n');\n` +
        `setInterval(() => {}, 1000);\n${ending};\n`,
    );
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url)),
        },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const code = await new Promise<number | string | null>((resolve) =>
        child.on('exit', (exitCode, signal) => resolve(exitCode ?? signal)),
      );
      const started = JSON.parse(output) as { endpoint: string; root: string };
      expect(code === 0 || code === 'SIGTERM').toBe(true);
      expect(await answers(started.endpoint)).toBe(false);
      expect(existsSync(started.root)).toBe(false);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
