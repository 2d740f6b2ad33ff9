// SPDX-License-Identifier: Apache-2.0
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { StatusError } from '../errors/status-error.js';

/** Options of {@link startEtcdCluster}. @category Testing */
export interface EtcdClusterOptions {
  /** One member, or three for fault tests (kill the leader, keep a quorum). Default 1. */
  members?: 1 | 3;
  /**
   * Serve clients over TLS with client-certificate authentication. The helper makes a throwaway CA,
   * a server certificate for `127.0.0.1`/`localhost` and a client certificate with the `openssl`
   * CLI; their paths are in {@link EtcdCluster.tls}. Peers talk plain HTTP. Default false.
   */
  tls?: boolean;
  /** Readable name used in the temp directory, the cluster token and error messages. Default `etcd`. */
  name?: string;
  /** How long to wait for every member to be healthy, in ms. Default 30,000. */
  startTimeoutMs?: number;
}

/** PEM file paths of the throwaway CA and of a client certificate it signed. @category Testing */
export interface EtcdTlsFiles {
  /** The CA certificate that signed both the server and the client certificate. */
  ca: string;
  /** The client certificate. */
  cert: string;
  /** The client certificate's private key. */
  key: string;
}

/** One etcd process started by {@link startEtcdCluster}. @category Testing */
export interface EtcdMember {
  /** The member name (`m0`, `m1`, `m2`). */
  readonly name: string;
  /** The URL clients use, e.g. `http://127.0.0.1:41234` (`https://` with TLS). */
  readonly clientUrl: string;
  /** The URL peers use. */
  readonly peerUrl: string;
  /** etcd's `--data-dir`. */
  readonly dataDir: string;
  /** The file that receives the member's stderr (etcd logs there). */
  readonly logFile: string;
  /** True while the process is alive (it may still be electing or catching up). */
  readonly running: boolean;
  /** The process id while running, e.g. to read its CPU time in a benchmark. */
  readonly pid: number | undefined;
  /** SIGTERM, then waits for the process to exit (SIGKILL after 10 s). No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL (`kill -9`), then waits for the process to exit. No-op when not running. */
  kill(): Promise<void>;
  /**
   * Starts the member again on the same data dir and ports and waits until it is healthy (it has a
   * leader and serves a quorum read). Fails if it is running.
   */
  restart(): Promise<void>;
}

/** A running etcd cluster for tests. Stop it in `afterAll`. @category Testing */
export interface EtcdCluster {
  /** Client URLs of every member, in member order (whether or not the member is running). */
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** The temp directory holding every member's data dir, logs and TLS files. */
  readonly dataRoot: string;
  /** Certificate files for clients when started with `tls: true`. */
  readonly tls?: EtcdTlsFiles;
  /**
   * The current leader: a running member that reports itself leader. Waits (up to 10 s) while an
   * election is in progress, e.g. right after the old leader was killed.
   */
  leader(): Promise<EtcdMember>;
  /**
   * Runs `etcdctl` against the running members (with the TLS flags when needed) and resolves with
   * its stdout, e.g. `etcdctl(['user', 'add', 'root:secret'])`. Fails with its stderr.
   */
  etcdctl(args: string[]): Promise<string>;
  /** Kills every member (SIGKILL) and deletes {@link EtcdCluster.dataRoot}. Idempotent. */
  stop(): Promise<void>;
}

const defaultStartTimeoutMs = 30_000;
const leaderTimeoutMs = 10_000;
const stopGraceMs = 10_000;
/** Attempts with fresh ports when a port we picked was taken before etcd bound it. */
const portAttempts = 3;

/** Every etcd process this module started and has not seen exit, for the last-resort cleanup. */
const liveProcesses = new Set<ChildProcess>();
/** Every data root not yet deleted, for the last-resort cleanup. */
const liveRoots = new Set<string>();
let cleanupInstalled = false;

/** Kills every etcd still running and removes the temp dirs; synchronous, so it works in 'exit'. */
function cleanupSync(): void {
  for (const child of liveProcesses) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  liveProcesses.clear();
  for (const root of liveRoots) rmSync(root, { recursive: true, force: true });
  liveRoots.clear();
}

/**
 * A test that fails before its afterAll, or a worker that vitest terminates, must not leave etcd
 * behind: kill on 'exit', and on SIGTERM/SIGINT (the default action of those skips 'exit' handlers).
 */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      // When we were the only listener, our listener replaced the default action: restore it.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Finds `name` on the PATH (Debian puts etcd and etcdctl in /usr/bin). */
function findBinary(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory && existsSync(join(directory, name))) return join(directory, name);
  }
  return undefined;
}

function requireBinary(name: 'etcd' | 'etcdctl'): string {
  const found = findBinary(name);
  if (!found) {
    throw new Error(
      `${name} not found on PATH (${process.env.PATH ?? ''}): install the Debian package ` +
        `${name === 'etcd' ? 'etcd-server' : 'etcd-client'} (apt-get install etcd-server etcd-client)`,
    );
  }
  return found;
}

/** A free loopback port: bind port 0, read the port the kernel chose, release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function run(binary: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { timeout: timeoutMs, env: { ...process.env, ETCDCTL_API: '3' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${binary} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** Reads TLS file contents once per cluster for HTTP health and status requests. */
interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** One HTTP(S) request to a member's client URL; resolves with status code and body. */
function memberRequest(
  url: string,
  path: string,
  tls: TlsMaterial | undefined,
  body?: string,
  timeoutMs = 1_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const options = {
      method: body === undefined ? 'GET' : 'POST',
      timeout: timeoutMs,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
      agent: false as const,
    };
    const call = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = call(target, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${target} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** etcd's `/health` says true once the member has a leader and can serve a quorum read. */
async function isHealthy(url: string, tls: TlsMaterial | undefined): Promise<boolean> {
  try {
    const response = await memberRequest(url, '/health', tls);
    return response.status === 200 && (JSON.parse(response.body) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** The maintenance status of one member (the grpc-gateway renders uint64 as strings). */
interface MemberStatus {
  header?: { member_id?: string };
  leader?: string;
}

async function memberStatus(url: string, tls: TlsMaterial | undefined): Promise<MemberStatus | undefined> {
  try {
    const response = await memberRequest(url, '/v3/maintenance/status', tls, '{}');
    return response.status === 200 ? (JSON.parse(response.body) as MemberStatus) : undefined;
  } catch {
    return undefined;
  }
}

interface MemberConfig {
  name: string;
  clientPort: number;
  peerPort: number;
}

class EtcdProcess implements EtcdMember {
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: MemberConfig,
    private readonly cluster: EtcdClusterHandle,
    directory: string,
  ) {
    const scheme = cluster.tlsMaterial ? 'https' : 'http';
    this.clientUrl = `${scheme}://127.0.0.1:${config.clientPort}`;
    this.peerUrl = `http://127.0.0.1:${config.peerPort}`;
    this.dataDir = join(directory, 'data');
    this.logFile = join(directory, 'etcd.log');
  }

  get name(): string {
    return this.config.name;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Starts the process (first start or restart); does not wait for health. */
  spawn(): void {
    const args = [
      '--name',
      this.name,
      '--data-dir',
      this.dataDir,
      '--listen-client-urls',
      this.clientUrl,
      '--advertise-client-urls',
      this.clientUrl,
      '--listen-peer-urls',
      this.peerUrl,
      '--initial-advertise-peer-urls',
      this.peerUrl,
      '--initial-cluster',
      this.cluster.initialCluster,
      '--initial-cluster-state',
      'new',
      '--initial-cluster-token',
      this.cluster.token,
      // Fast failure detection so fault tests see a new leader within about a second.
      '--heartbeat-interval',
      '50',
      '--election-timeout',
      '500',
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
    ];
    const tlsFiles = this.cluster.tls;
    if (tlsFiles) {
      args.push(
        '--cert-file',
        join(this.cluster.dataRoot, 'tls', 'server.pem'),
        '--key-file',
        join(this.cluster.dataRoot, 'tls', 'server.key'),
        '--client-cert-auth',
        '--trusted-ca-file',
        tlsFiles.ca,
      );
    }
    const log = openSync(this.logFile, 'a');
    try {
      const child = spawn(requireBinary('etcd'), args, { stdio: ['ignore', log, log] });
      this.child = child;
      liveProcesses.add(child);
      this.exited = new Promise((resolve) => {
        // 'exit' also fires when spawn fails (with an 'error' first); either way the process is gone.
        child.once('exit', () => {
          liveProcesses.delete(child);
          resolve();
        });
        child.once('error', () => {
          liveProcesses.delete(child);
          resolve();
        });
      });
    } finally {
      closeSync(log);
    }
  }

  /** Waits until `/health` is true; fails early with the log tail when the process exits. */
  async waitHealthy(deadline: number): Promise<void> {
    for (;;) {
      if (!this.running) {
        throw new Error(
          `etcd member ${this.name} exited during start; last log lines of ${this.logFile}:\n${tail(this.logFile)}`,
        );
      }
      if (await isHealthy(this.clientUrl, this.cluster.tlsMaterial)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `etcd member ${this.name} (${this.clientUrl}) not healthy in time; last log lines of ${this.logFile}:\n${tail(this.logFile)}`,
        );
      }
      await sleep(50);
    }
  }

  /** True when the log says a port was taken between our probe and etcd's bind. */
  portCollision(): boolean {
    return /address already in use/.test(tail(this.logFile, 60));
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.running)
      throw new StatusError('BadRequest', `etcd member ${this.name} is running; stop or kill it first`);
    if (this.cluster.stopped)
      throw new StatusError('BadRequest', `etcd cluster ${this.cluster.token} was stopped`);
    this.spawn();
    await this.waitHealthy(Date.now() + this.cluster.startTimeoutMs);
  }

  private async signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    if (signal === 'SIGTERM') {
      const escalate = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await this.exited;
      clearTimeout(escalate);
    } else {
      await this.exited;
    }
  }
}

class EtcdClusterHandle implements EtcdCluster {
  readonly members: EtcdProcess[];
  readonly initialCluster: string;
  tlsMaterial: TlsMaterial | undefined;
  stopped = false;

  constructor(
    readonly dataRoot: string,
    readonly token: string,
    readonly startTimeoutMs: number,
    configs: MemberConfig[],
    readonly tls: EtcdTlsFiles | undefined,
    initialCluster?: string,
  ) {
    if (tls) {
      this.tlsMaterial = {
        ca: readFileSync(tls.ca),
        cert: readFileSync(tls.cert),
        key: readFileSync(tls.key),
      };
    }
    this.initialCluster =
      initialCluster ??
      configs.map((config) => `${config.name}=http://127.0.0.1:${config.peerPort}`).join(',');
    this.members = configs.map((config) => {
      const directory = join(dataRoot, config.name);
      mkdirSync(directory, { recursive: true });
      return new EtcdProcess(config, this, directory);
    });
  }

  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  async start(): Promise<void> {
    // Every member at once: a three-member cluster elects its first leader only when a quorum is up.
    for (const member of this.members) member.spawn();
    const deadline = Date.now() + this.startTimeoutMs;
    await Promise.all(this.members.map((member) => member.waitHealthy(deadline)));
  }

  async leader(): Promise<EtcdMember> {
    const deadline = Date.now() + leaderTimeoutMs;
    for (;;) {
      // A member that reports itself leader is one; followers may still name a dead leader for up to
      // an election timeout after a kill, so their view is not trusted.
      for (const member of this.members) {
        if (!member.running) continue;
        const status = await memberStatus(member.clientUrl, this.tlsMaterial);
        if (status?.leader && status.leader !== '0' && status.leader === status.header?.member_id)
          return member;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no leader among the running etcd members of ${this.token} within ${leaderTimeoutMs} ms`,
        );
      }
      await sleep(50);
    }
  }

  async etcdctl(args: string[]): Promise<string> {
    const endpoints = this.members.filter((member) => member.running).map((member) => member.clientUrl);
    const flags = [`--endpoints=${endpoints.join(',')}`];
    if (this.tls) flags.push(`--cacert=${this.tls.ca}`, `--cert=${this.tls.cert}`, `--key=${this.tls.key}`);
    return run(requireBinary('etcdctl'), [...flags, ...args]);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // SIGKILL: the data is thrown away anyway, and a graceful stop of members that lost their peers
    // waits for leadership transfer and timeouts (seconds each).
    await Promise.all(this.members.map((member) => member.kill()));
    rmSync(this.dataRoot, { recursive: true, force: true });
    liveRoots.delete(this.dataRoot);
  }
}

/** Makes a CA, a server certificate (127.0.0.1, localhost) and a client certificate with openssl. */
async function makeCertificates(directory: string): Promise<EtcdTlsFiles> {
  mkdirSync(directory, { recursive: true });
  const openssl = findBinary('openssl');
  if (!openssl) throw new Error('openssl not found on PATH: install the Debian package openssl');
  const file = (name: string): string => join(directory, name);
  // P-256 keys: generated in milliseconds, and both Go (etcd) and Node accept them.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(
    file('ca.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = v3_ca',
      '[dn]',
      'CN = cpkit-test-ca',
      '[v3_ca]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await run(openssl, [
    'req',
    '-x509',
    ...newKey,
    '-config',
    file('ca.cnf'),
    '-days',
    '2',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  ]);
  const sign = async (name: string, commonName: string, extensions: string[]): Promise<void> => {
    writeFileSync(file(`${name}.ext`), `${extensions.join('\n')}\n`);
    await run(openssl, [
      'req',
      ...newKey,
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    ]);
    await run(openssl, [
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    ]);
  };
  await sign('server', 'localhost', [
    'subjectAltName = IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage = serverAuth,clientAuth',
    'keyUsage = critical,digitalSignature,keyEncipherment',
  ]);
  await sign('client', 'cpkit-test-client', [
    'extendedKeyUsage = clientAuth',
    'keyUsage = critical,digitalSignature,keyEncipherment',
  ]);
  return { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') };
}

function checkOptions(options: EtcdClusterOptions): void {
  const { members, startTimeoutMs, name } = options;
  if (members !== undefined && members !== 1 && members !== 3) {
    throw new StatusError('BadRequest', `members: must be 1 or 3, got ${String(members)}`);
  }
  if (startTimeoutMs !== undefined && !(Number.isFinite(startTimeoutMs) && startTimeoutMs > 0)) {
    throw new StatusError(
      'BadRequest',
      `startTimeoutMs: must be a positive number, got ${String(startTimeoutMs)}`,
    );
  }
  if (name !== undefined && !/^[a-z0-9][a-z0-9-]{0,40}$/i.test(name)) {
    throw new StatusError(
      'BadRequest',
      `name: must be 1-41 letters, digits or dashes, got ${JSON.stringify(name)}`,
    );
  }
}

/**
 * Starts `attempt()` up to {@link portAttempts} times, retrying only when a member lost its port to
 * another process between our probe and etcd's bind.
 */
async function withPortRetry(
  name: string,
  attempt: (dataRoot: string) => Promise<EtcdClusterHandle>,
): Promise<EtcdClusterHandle> {
  installCleanup();
  requireBinary('etcd');
  for (let tries = 1; ; tries++) {
    const dataRoot = mkdtempSync(join(tmpdir(), `cpkit-etcd-${name}-`));
    liveRoots.add(dataRoot);
    let cluster: EtcdClusterHandle | undefined;
    try {
      cluster = await attempt(dataRoot);
      await cluster.start();
      return cluster;
    } catch (error) {
      const collided = cluster?.members.some((member) => member.portCollision()) ?? false;
      if (cluster) await cluster.stop();
      rmSync(dataRoot, { recursive: true, force: true });
      liveRoots.delete(dataRoot);
      if (!collided || tries >= portAttempts) throw error;
    }
  }
}

/**
 * Starts a throwaway etcd (Debian package `etcd-server`) on random free 127.0.0.1 ports with temp
 * data dirs: one member, or three for fault tests. Resolves once every member is healthy.
 *
 * Call {@link EtcdCluster.stop} in `afterAll`; as a last resort every member still running is
 * killed when the test process exits or receives SIGTERM/SIGINT.
 *
 * @example
 * ```ts
 * let etcd: EtcdCluster;
 * beforeAll(async () => { etcd = await startEtcdCluster({ members: 3 }); });
 * afterAll(() => etcd.stop());
 * it('survives losing the leader', async () => { await (await etcd.leader()).kill(); ... });
 * ```
 * @category Testing
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  checkOptions(options);
  const name = options.name ?? 'etcd';
  const count = options.members ?? 1;
  const startTimeoutMs = options.startTimeoutMs ?? defaultStartTimeoutMs;
  return withPortRetry(name, async (dataRoot) => {
    const tls = options.tls ? await makeCertificates(join(dataRoot, 'tls')) : undefined;
    const ports = await freePorts(count * 2);
    const configs = Array.from({ length: count }, (_, i) => ({
      name: `m${i}`,
      clientPort: ports[2 * i],
      peerPort: ports[2 * i + 1],
    }));
    return new EtcdClusterHandle(
      dataRoot,
      `${name}-${process.pid}-${Date.now()}`,
      startTimeoutMs,
      configs,
      tls,
    );
  });
}

/**
 * Restores an etcd snapshot file (as written by `etcdctl snapshot save` or a Store's `backup`) with
 * `etcdctl snapshot restore` into a fresh data dir and starts one member on it, to test restores.
 * The restored member has the snapshot's keys and revision; it is a new cluster (new member and
 * cluster ids).
 * @category Testing
 */
export async function startEtcdFromSnapshot(
  snapshotPath: string,
  options: Pick<EtcdClusterOptions, 'name' | 'startTimeoutMs'> = {},
): Promise<EtcdCluster> {
  checkOptions(options);
  if (typeof snapshotPath !== 'string' || !existsSync(snapshotPath)) {
    throw new StatusError('BadRequest', `snapshotPath: no such file: ${String(snapshotPath)}`);
  }
  const etcdctl = requireBinary('etcdctl');
  const name = options.name ?? 'etcd-restored';
  return withPortRetry(name, async (dataRoot) => {
    const [clientPort, peerPort] = await freePorts(2);
    const config = { name: 'm0', clientPort, peerPort };
    const token = `${name}-${process.pid}-${Date.now()}`;
    const cluster = new EtcdClusterHandle(
      dataRoot,
      token,
      options.startTimeoutMs ?? defaultStartTimeoutMs,
      [config],
      undefined,
    );
    const member = cluster.members[0];
    await run(etcdctl, [
      'snapshot',
      'restore',
      snapshotPath,
      '--name',
      member.name,
      '--data-dir',
      member.dataDir,
      '--initial-cluster',
      cluster.initialCluster,
      '--initial-advertise-peer-urls',
      member.peerUrl,
      '--initial-cluster-token',
      token,
    ]);
    return cluster;
  });
}
