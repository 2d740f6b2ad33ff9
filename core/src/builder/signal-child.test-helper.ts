// SPDX-License-Identifier: Apache-2.0
// Run as a child process by run-until-signal.int.test.ts: real signals and real unhandled-rejection
// behaviour can only be observed in a process of their own.
import 'reflect-metadata';
import { ContainerModule, inject, injectable } from 'inversify';
import { Runnable } from '../contracts/runnable.js';
import { createControlPlane } from './control-plane-builder.js';

const mode = process.argv[2];

function worker(name: string, stops: boolean): Runnable {
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  return {
    name,
    async start(signal: AbortSignal): Promise<void> {
      // Keeps the event loop alive like a real server would, until aborted.
      const timer = setInterval(() => {}, 1_000);
      signal.addEventListener('abort', () => {
        if (!stops) return;
        clearInterval(timer);
        markStopped();
      });
    },
    stopped: () => stopped,
  };
}

if (mode === 'signal' || mode === 'stuck') {
  const controlPlane = await createControlPlane({
    gracePeriodMs: 5_000,
    modules: [
      new ContainerModule((bind) => {
        bind(Runnable).toConstantValue(worker('store', true));
        bind(Runnable).toConstantValue({ ...worker('api', mode === 'signal'), dependsOn: ['store'] });
      }),
    ],
  });
  const report = await controlPlane.runUntilSignal();
  process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
} else if (mode === 'leak') {
  const Config = Symbol.for('test.Config');
  @injectable()
  class Scheduler {
    readonly name = 'scheduler';
    constructor(@inject(Config) readonly config: unknown) {}
    async start(): Promise<void> {}
  }
  try {
    await createControlPlane({
      modules: [
        new ContainerModule((bind) => {
          bind(Config).toDynamicValue(() => {
            throw new Error('config file missing');
          });
          bind(Scheduler).toSelf();
          bind(Runnable).toService(Scheduler);
        }),
      ],
    });
  } catch (error) {
    process.stdout.write(`BUILD ${(error as Error).message}\n`);
    // Give a leaked rejection the chance to crash the process, as it would in a real starter.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.stdout.write('ALIVE\n');
  }
}
