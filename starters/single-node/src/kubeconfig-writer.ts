// SPDX-License-Identifier: Apache-2.0
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HttpApiServer } from '@cpkit/apiserver';
import { ContainerModule, inject, injectable, Logger, Runnable } from '@cpkit/core';

/** Where {@link KubeconfigWriter} writes. */
export const KubeconfigPath = Symbol.for('cpkit.starter.KubeconfigPath');

/**
 * Writes a kubeconfig for the running API server once it listens, so `kubectl --kubeconfig <path>`
 * works at once. The server speaks plain HTTP on loopback for now, so the kubeconfig carries no
 * credentials (kubectl sends none over plain HTTP anyway).
 */
@injectable()
export class KubeconfigWriter implements Runnable {
  readonly name = 'kubeconfig-writer';
  readonly dependsOn = ['api-server'];

  constructor(
    @inject(HttpApiServer) private readonly server: HttpApiServer,
    @inject(KubeconfigPath) private readonly path: string,
    @inject(Logger) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const address = this.server.address();
    if (!address) throw new Error('kubeconfig-writer: the API server is not listening');
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cpkit', cluster: { server: address.url } }],
      users: [{ name: 'cpkit', user: {} }],
      contexts: [{ name: 'cpkit', context: { cluster: 'cpkit', user: 'cpkit', namespace: 'default' } }],
      'current-context': 'cpkit',
    };
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(this.path, `${JSON.stringify(kubeconfig, null, 2)}\n`, { mode: 0o600 });
    await chmod(this.path, 0o600);
    this.logger.info(
      { kubeconfig: this.path, server: address.url },
      `kubeconfig written: kubectl --kubeconfig ${this.path} get namespaces`,
    );
  }
}

/** Contributes {@link KubeconfigWriter}, writing to `path`. */
export function kubeconfigWriterModule(path: string): ContainerModule {
  return new ContainerModule((bind) => {
    bind(KubeconfigPath).toConstantValue(path);
    bind(KubeconfigWriter).toSelf().inSingletonScope();
    bind(Runnable).toService(KubeconfigWriter);
  });
}
