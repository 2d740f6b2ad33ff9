// SPDX-License-Identifier: Apache-2.0
import { resolve } from 'node:path';
import { PortRange, ServiceIPRange } from '@cpkit/core';
import { Command, InvalidArgumentError, Option } from 'commander';

/** What the single-node starter can be told on its command line. */
export interface SingleNodeOptions {
  /** `embedded`, or an `etcd://host:port[,host:port...]` URL (`etcds://` for TLS). */
  store: string;
  /** Directory holding the embedded store's SQLite file. */
  dataDir: string;
  /** Keep everything in memory (nothing survives a restart). */
  inMemory: boolean;
  logLevel: string;
  /** `pretty` for people at a terminal, `json` (one object per line) for log collectors. */
  logFormat: 'pretty' | 'json';
  /** Address the API server listens on (HTTPS). */
  apiHost: string;
  /** Port of the API server; 0 picks a free one. */
  apiPort: number;
  /** Where the admin kubeconfig for the API server is written. */
  kubeconfigPath: string;
  /** A static token file (`token,user,uid,"group1,group2"`), if any. */
  tokenFile?: string;
  /** Serve requests without credentials as `system:anonymous`. */
  anonymous: boolean;
  /** `RBAC`, or `AlwaysAllow` for development. */
  authorizationMode: 'RBAC' | 'AlwaysAllow';
  /** Milliseconds to wait for parts to stop after SIGTERM/SIGINT. */
  shutdownGracePeriodMs: number;
  /** The IPv4 CIDR Service ClusterIPs come from (upstream's `--service-cluster-ip-range`). */
  serviceClusterIPRange: string;
  /** The range Service node ports come from (upstream's `--service-node-port-range`). */
  serviceNodePortRange: string;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return parsed;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

/** A commander parser that accepts what `parse` accepts and reports its error as the reason. */
function checkedWith(parse: (value: string) => unknown): (value: string) => string {
  return (value) => {
    try {
      parse(value);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
    return value;
  };
}

/** Parses `argv` (as `process.argv`); prints help or a precise error and exits on bad input. */
export function parseSingleNodeOptions(argv: readonly string[]): SingleNodeOptions {
  const program = new Command()
    .name('cpkit-single-node')
    .description('A cpkit control plane in one process, on the embedded store.')
    .addOption(
      new Option('--store <store>', 'embedded, or an etcd URL: etcd://127.0.0.1:2379[,host:port...]')
        .env('CPKIT_STORE')
        .default('embedded'),
    )
    .addOption(
      new Option('--data-dir <dir>', 'where the embedded store keeps its data')
        .env('CPKIT_DATA_DIR')
        .default('.cpkit'),
    )
    .addOption(
      new Option('--in-memory', 'keep all data in memory; nothing survives a restart').default(false),
    )
    .addOption(
      new Option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
        .env('CPKIT_LOG_LEVEL')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('info'),
    )
    .addOption(
      new Option('--log-format <format>', 'pretty or json (default: pretty at a terminal, else json)')
        .env('CPKIT_LOG_FORMAT')
        .choices(['pretty', 'json']),
    )
    .addOption(
      new Option('--api-host <host>', 'address the API server listens on (HTTPS)')
        .env('CPKIT_API_HOST')
        .default('127.0.0.1'),
    )
    .addOption(
      new Option('--api-port <port>', 'API server port (0 picks a free one)')
        .env('CPKIT_API_PORT')
        .argParser(port)
        .default(6443),
    )
    .addOption(
      new Option(
        '--kubeconfig <path>',
        'where to write the admin kubeconfig (default: <data-dir>/kubeconfig)',
      ).env('CPKIT_KUBECONFIG'),
    )
    .addOption(
      new Option(
        '--token-auth-file <path>',
        'static bearer tokens, one CSV line each: token,user,uid,"group1,group2"',
      ).env('CPKIT_TOKEN_AUTH_FILE'),
    )
    .addOption(
      new Option('--anonymous-auth', 'serve requests without credentials as system:anonymous').default(false),
    )
    .addOption(
      new Option(
        '--authorization-mode <mode>',
        'RBAC, or AlwaysAllow (development only: everyone may do anything)',
      )
        .env('CPKIT_AUTHORIZATION_MODE')
        .choices(['RBAC', 'AlwaysAllow'])
        .default('RBAC'),
    )
    .addOption(
      new Option('--service-cluster-ip-range <cidr>', 'IPv4 range Service ClusterIPs are allocated from')
        .env('CPKIT_SERVICE_CLUSTER_IP_RANGE')
        .argParser(checkedWith((value) => ServiceIPRange.parse(value)))
        .default('10.96.0.0/12'),
    )
    .addOption(
      new Option(
        '--service-node-port-range <range>',
        'range Service node ports are allocated from, e.g. 30000-32767',
      )
        .env('CPKIT_SERVICE_NODE_PORT_RANGE')
        .argParser(checkedWith((value) => PortRange.parse(value)))
        .default('30000-32767'),
    )
    .addOption(
      new Option('--shutdown-grace-period <seconds>', 'how long parts get to stop on SIGTERM/SIGINT')
        .argParser(positiveInteger)
        .default(30),
    )
    .parse(argv as string[]);
  const parsed = program.opts<{
    store: string;
    dataDir: string;
    inMemory: boolean;
    logLevel: string;
    logFormat?: 'pretty' | 'json';
    apiHost: string;
    apiPort: number;
    kubeconfig?: string;
    tokenAuthFile?: string;
    anonymousAuth: boolean;
    authorizationMode: 'RBAC' | 'AlwaysAllow';
    shutdownGracePeriod: number;
    serviceClusterIpRange: string;
    serviceNodePortRange: string;
  }>();
  const dataDir = resolve(parsed.dataDir);
  return {
    store: parsed.store,
    dataDir,
    apiHost: parsed.apiHost,
    apiPort: parsed.apiPort,
    kubeconfigPath: resolve(parsed.kubeconfig ?? `${dataDir}/kubeconfig`),
    ...(parsed.tokenAuthFile ? { tokenFile: resolve(parsed.tokenAuthFile) } : {}),
    anonymous: parsed.anonymousAuth,
    authorizationMode: parsed.authorizationMode,
    inMemory: parsed.inMemory,
    logLevel: parsed.logLevel,
    logFormat: parsed.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    shutdownGracePeriodMs: parsed.shutdownGracePeriod * 1000,
    serviceClusterIPRange: parsed.serviceClusterIpRange,
    serviceNodePortRange: parsed.serviceNodePortRange,
  };
}
