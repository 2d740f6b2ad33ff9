// SPDX-License-Identifier: Apache-2.0
import 'reflect-metadata';
import { Writable } from 'node:stream';
import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { Runnable } from '../contracts/runnable.js';
import { isStatusError } from '../errors/status-error.js';
import { createLogger, Logger } from '../observability/logger.js';
import type { ControlPlane } from './control-plane.js';
import { createControlPlane } from './control-plane-builder.js';
import { LeaderElectionGate, type LeaderElectionRegistration } from './leader-election-gate.js';

interface FakeOptions {
  dependsOn?: string[];
  needsLeaderElection?: boolean;
  /** start() rejects with this message. */
  startFails?: string;
  /** start() only settles when its signal aborts. */
  startHangs?: boolean;
  /** After abort, stopped() resolves after this many ms (default 0). */
  stopDelayMs?: number;
  /** After abort, stopped() never resolves. */
  neverStops?: boolean;
}

interface Fake extends Runnable {
  signals: AbortSignal[];
}

function fake(name: string, events: string[], options: FakeOptions = {}): Fake {
  let resolveStopped: () => void = () => {};
  let stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const signals: AbortSignal[] = [];
  return {
    name,
    dependsOn: options.dependsOn,
    needsLeaderElection: options.needsLeaderElection,
    signals,
    async start(signal: AbortSignal): Promise<void> {
      signals.push(signal);
      events.push(`start ${name}`);
      // A runnable restarted (new leadership term) gets a new stopped() promise.
      stopped = new Promise<void>((resolve) => {
        resolveStopped = resolve;
      });
      signal.addEventListener('abort', () => {
        events.push(`abort ${name}`);
        if (options.neverStops) return;
        setTimeout(() => {
          events.push(`stopped ${name}`);
          resolveStopped();
        }, options.stopDelayMs ?? 0);
      });
      if (options.startFails) throw new Error(options.startFails);
      if (options.startHangs) {
        await new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('start aborted')));
        });
      }
    },
    stopped: () => stopped,
  };
}

function capturedLogger(): { logger: Logger; messages: () => string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info', destination, base: {} }),
    messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
  };
}

async function controlPlaneOf(
  runnables: Runnable[],
  options: { gracePeriodMs?: number; logger?: Logger; gate?: LeaderElectionGate } = {},
): Promise<ControlPlane> {
  return createControlPlane({
    gracePeriodMs: options.gracePeriodMs,
    modules: [
      new ContainerModule((bind) => {
        bind(Logger).toConstantValue(options.logger ?? createLogger({ level: 'silent' }));
        if (options.gate) bind(LeaderElectionGate).toConstantValue(options.gate);
        for (const runnable of runnables) bind(Runnable).toConstantValue(runnable);
      }),
    ],
  });
}

describe('ControlPlane lifecycle', () => {
  it('starts in dependency order and stops in reverse, each with its own signal', async () => {
    const events: string[] = [];
    const controllers = fake('controllers', events, { dependsOn: ['api'] });
    const api = fake('api', events, { dependsOn: ['store'] });
    const store = fake('store', events, { stopDelayMs: 5 });
    const controlPlane = await controlPlaneOf([controllers, api, store]);

    await controlPlane.start();
    expect(events).toEqual(['start store', 'start api', 'start controllers']);
    expect(new Set([store.signals[0], api.signals[0], controllers.signals[0]]).size).toBe(3);
    expect([store, api, controllers].some((r) => r.signals[0].aborted)).toBe(false);

    const report = await controlPlane.stop();
    expect(events.slice(3)).toEqual([
      'abort controllers',
      'stopped controllers',
      'abort api',
      'stopped api',
      'abort store',
      'stopped store',
    ]);
    expect(report).toMatchObject({ stopped: ['controllers', 'api', 'store'], timedOut: [], failed: [] });
  });

  it('reports runnables still running after the grace period and does not wait for them', async () => {
    const events: string[] = [];
    const { logger, messages } = capturedLogger();
    const controlPlane = await controlPlaneOf(
      [
        fake('store', events),
        fake('stuck', events, { neverStops: true }),
        fake('slow', events, { stopDelayMs: 10_000 }),
      ],
      { gracePeriodMs: 100, logger },
    );
    await controlPlane.start();
    const began = Date.now();
    const report = await controlPlane.stop();
    const took = Date.now() - began;

    expect(report.timedOut).toEqual(['slow', 'stuck']);
    expect(report.stopped).toEqual(['store']);
    // Every runnable was still told to stop, even after the deadline passed.
    expect(events).toEqual(
      expect.arrayContaining(['abort slow', 'abort stuck', 'abort store', 'stopped store']),
    );
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(1_000);
    expect(messages()).toContain('runnables still running after the grace period of 100 ms: slow, stuck');
  });

  it('takes a per-call grace period', async () => {
    const controlPlane = await controlPlaneOf([fake('stuck', [], { neverStops: true })]);
    await controlPlane.start();
    const report = await controlPlane.stop(20);
    expect(report.timedOut).toEqual(['stuck']);
  });

  it('rolls back when a runnable fails to start and names it', async () => {
    const events: string[] = [];
    const { logger, messages } = capturedLogger();
    const controlPlane = await controlPlaneOf(
      [
        fake('store', events),
        fake('api', events, { dependsOn: ['store'] }),
        fake('apiserver', events, { dependsOn: ['api'], startFails: 'listen EADDRINUSE 127.0.0.1:6443' }),
        fake('controllers', events, { dependsOn: ['apiserver'] }),
      ],
      { logger },
    );

    const error = await controlPlane.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStatusError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'cpkit start error: runnable "apiserver" failed to start: listen EADDRINUSE 127.0.0.1:6443',
    );
    expect(events).toEqual([
      'start store',
      'start api',
      'start apiserver',
      'abort apiserver',
      'stopped apiserver',
      'abort api',
      'stopped api',
      'abort store',
      'stopped store',
    ]);
    expect(messages()).toContain('runnable failed to start; stopping the ones already started');
    await expect(controlPlane.start()).rejects.toThrow('runnable "apiserver" failed to start');
  });

  it('stop() during a start that waits aborts it and stops what started', async () => {
    const events: string[] = [];
    const controlPlane = await controlPlaneOf([
      fake('store', events),
      fake('informers', events, { dependsOn: ['store'], startHangs: true }),
      fake('controllers', events, { dependsOn: ['informers'] }),
    ]);
    const starting = controlPlane.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const report = await controlPlane.stop();
    expect(((await starting) as Error).message).toBe(
      'cpkit start interrupted: stop requested while starting "informers"',
    );
    expect(report.stopped).toEqual(['informers', 'store']);
    expect(events).not.toContain('start controllers');
  });

  it('stop() is idempotent and start() after stop() is refused', async () => {
    const controlPlane = await controlPlaneOf([fake('a', [])]);
    await controlPlane.start();
    const first = controlPlane.stop();
    expect(controlPlane.stop()).toBe(first);
    await first;
    await expect(controlPlane.start()).rejects.toThrow('start() called after stop()');
  });

  it('stop() before start() stops nothing', async () => {
    const controlPlane = await controlPlaneOf([fake('a', [])]);
    expect(await controlPlane.stop()).toMatchObject({ stopped: [], timedOut: [], failed: [] });
  });

  it('reports a runnable whose stopped() rejects', async () => {
    const failing: Runnable = {
      name: 'flaky',
      start: async () => {},
      stopped: () => Promise.reject(new Error('flush failed')),
    };
    const controlPlane = await controlPlaneOf([failing]);
    await controlPlane.start();
    const report = await controlPlane.stop();
    expect(report.failed.map((f) => [f.name, (f.error as Error).message])).toEqual([
      ['flaky', 'flush failed'],
    ]);
  });
});

/** A gate whose leadership the test switches by hand. */
class ManualGate implements LeaderElectionGate {
  private readonly registered: { start: () => Promise<void>; stop: () => Promise<void>; active: boolean }[] =
    [];
  leading = false;

  async whenLeader(
    start: () => Promise<void>,
    stop: () => Promise<void>,
  ): Promise<LeaderElectionRegistration> {
    const registration = { start, stop, active: true };
    this.registered.push(registration);
    if (this.leading) await start();
    return {
      dispose: async () => {
        if (!registration.active) return;
        registration.active = false;
        if (this.leading) await stop();
      },
    };
  }

  async acquire(): Promise<void> {
    this.leading = true;
    for (const r of this.registered) if (r.active) await r.start();
  }

  async lose(): Promise<void> {
    this.leading = false;
    for (const r of this.registered) if (r.active) await r.stop();
  }
}

describe('ControlPlane leader election', () => {
  it('starts runnables that need leader election only while leading, with a fresh signal each term', async () => {
    const events: string[] = [];
    const gate = new ManualGate();
    const scheduler = fake('scheduler', events, { needsLeaderElection: true });
    const controlPlane = await controlPlaneOf([fake('informers', events), scheduler], { gate });

    await controlPlane.start();
    expect(events).toEqual(['start informers']);

    await gate.acquire();
    await gate.lose();
    await gate.acquire();
    expect(events.slice(1)).toEqual([
      'start scheduler',
      'abort scheduler',
      'stopped scheduler',
      'start scheduler',
    ]);
    expect(scheduler.signals).toHaveLength(2);
    expect(scheduler.signals[0].aborted).toBe(true);
    expect(scheduler.signals[1].aborted).toBe(false);

    const report = await controlPlane.stop();
    expect(report.stopped).toEqual(['scheduler', 'informers']);
    expect(scheduler.signals[1].aborted).toBe(true);
  });

  it('the default gate always leads', async () => {
    const events: string[] = [];
    const controlPlane = await controlPlaneOf([fake('scheduler', events, { needsLeaderElection: true })]);
    await controlPlane.start();
    await controlPlane.stop();
    expect(events).toEqual(['start scheduler', 'abort scheduler', 'stopped scheduler']);
  });

  it('a gate that is also a runnable starts before every runnable needing leader election', async () => {
    const events: string[] = [];
    const elector = Object.assign(new ManualGate(), {
      name: 'leader-election',
      start: async () => {
        events.push('start leader-election');
      },
    });
    const controlPlane = await controlPlaneOf(
      [fake('controllers', events, { needsLeaderElection: true }), fake('informers', events), elector],
      { gate: elector },
    );
    expect(controlPlane.runnables.map((r) => r.name)).toEqual([
      'leader-election',
      'controllers',
      'informers',
    ]);
    await controlPlane.start();
    expect(events).toEqual(['start leader-election', 'start informers']);
    await controlPlane.stop();
  });
});

describe('ControlPlane.runUntilSignal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops on %s, logs it, and removes its handlers',
    async (signal) => {
      const events: string[] = [];
      const { logger, messages } = capturedLogger();
      const controlPlane = await controlPlaneOf(
        [fake('store', events), fake('api', events, { dependsOn: ['store'] })],
        {
          logger,
        },
      );
      const listenersBefore = process.listenerCount(signal);
      const running = controlPlane.runUntilSignal({ exitOnSecondSignal: false });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events).toEqual(['start store', 'start api']);
      expect(process.listenerCount(signal)).toBe(listenersBefore + 1);

      process.emit(signal, signal);
      process.emit(signal, signal);
      const report = await running;
      expect(report.stopped).toEqual(['api', 'store']);
      expect(process.listenerCount(signal)).toBe(listenersBefore);
      expect(messages()).toEqual(
        expect.arrayContaining([
          `received ${signal}; stopping`,
          `received ${signal} again; still stopping`,
          'control plane stopped',
        ]),
      );
    },
  );

  it('a signal during start interrupts it and resolves with the stop report', async () => {
    const events: string[] = [];
    const controlPlane = await controlPlaneOf([
      fake('store', events),
      fake('informers', events, { startHangs: true }),
    ]);
    const running = controlPlane.runUntilSignal({ signals: ['SIGUSR2'], exitOnSecondSignal: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.emit('SIGUSR2', 'SIGUSR2');
    const report = await running;
    expect(report.stopped).toEqual(['informers', 'store']);
  });

  it('rejects when starting fails, after removing its handlers', async () => {
    const controlPlane = await controlPlaneOf([fake('store', [], { startFails: 'disk full' })]);
    const listenersBefore = process.listenerCount('SIGTERM');
    await expect(controlPlane.runUntilSignal()).rejects.toThrow(
      'runnable "store" failed to start: disk full',
    );
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });
});
