// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { sleep } from '../clock/clock.js';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('runs due timers in order, ties in scheduling order, including timers set by timers', async () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => {
      log.push(`a@${clock.now()}`);
      clock.setTimeout(() => log.push(`nested@${clock.now()}`), 5);
    }, 10);
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`late@${clock.now()}`), 100);
    await clock.advance(50);
    expect(log).toEqual(['a@10', 'b@10', 'nested@15', 'c@30']);
    expect(clock.now()).toBe(50);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('sees timers scheduled from promise continuations within the same advance', async () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 10);
        await Promise.resolve();
        times.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(30);
    await done;
    expect(times).toEqual([10, 20, 30]);
  });

  it('does not run cancelled timers', async () => {
    const clock = new FakeClock(0);
    let ran = false;
    const cancel = clock.setTimeout(() => {
      ran = true;
    }, 5);
    cancel();
    await clock.advance(10);
    expect(ran).toBe(false);
  });

  it('advanceSync runs timers without yielding', () => {
    const clock = new FakeClock(0);
    const log: number[] = [];
    clock.setTimeout(() => log.push(clock.now()), 1);
    clock.advanceSync(1);
    expect(log).toEqual([1]);
  });

  it('rejects going backwards', async () => {
    await expect(new FakeClock().advance(-1)).rejects.toThrow(/ms/);
  });

  it('sleep resolves early on abort and cancels its timer', async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const slept = sleep(clock, 1000, controller.signal);
    controller.abort();
    await slept;
    expect(clock.pendingTimers()).toBe(0);
  });
});
