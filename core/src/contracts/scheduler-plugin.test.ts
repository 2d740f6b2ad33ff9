// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { CycleState, MaxNodeScore, SchedulingStatus, StateKey } from './scheduler-plugin.js';

describe('SchedulingStatus', () => {
  it.each([
    ['success', SchedulingStatus.success(), 'Success', { success: true, rejected: false }],
    [
      'unschedulable',
      SchedulingStatus.unschedulable('Insufficient cpu'),
      'Unschedulable',
      { success: false, rejected: true },
    ],
    [
      'unresolvable',
      SchedulingStatus.unschedulableAndUnresolvable('node(s) had untolerated taint'),
      'UnschedulableAndUnresolvable',
      { success: false, rejected: true },
    ],
    ['pending', SchedulingStatus.pending('waiting for gate'), 'Pending', { success: false, rejected: true }],
    ['wait', SchedulingStatus.wait(), 'Wait', { success: false, rejected: false }],
    ['skip', SchedulingStatus.skip(), 'Skip', { success: false, rejected: false }],
    ['error', SchedulingStatus.error(new Error('boom')), 'Error', { success: false, rejected: false }],
  ] as const)('%s has code %s', (_label, status, code, expected) => {
    expect(status.code).toBe(code);
    expect(status.isSuccess()).toBe(expected.success);
    expect(status.isRejected()).toBe(expected.rejected);
  });

  it('keeps reasons, the failing plugin and the cause', () => {
    const cause = new Error('api down');
    const status = SchedulingStatus.error(cause).withPlugin('VolumeBinding');
    expect(status.plugin).toBe('VolumeBinding');
    expect(status.cause).toBe(cause);
    expect(status.toString()).toBe('Error: plugin VolumeBinding: api down');
    const fit = SchedulingStatus.unschedulable('Insufficient cpu', 'Insufficient memory');
    expect(fit.message()).toBe('Insufficient cpu, Insufficient memory');
    expect(() => (fit.reasons as string[]).push('x')).toThrow(TypeError);
  });

  it('withPlugin returns a copy and leaves the shared success untouched', () => {
    const named = SchedulingStatus.success().withPlugin('NodeName');
    expect(named.plugin).toBe('NodeName');
    expect(SchedulingStatus.success().plugin).toBeUndefined();
  });

  it('exports the upstream maximum score', () => {
    expect(MaxNodeScore).toBe(100);
  });
});

describe('CycleState', () => {
  const counterKey = new StateKey<{ count: number; clone(): { count: number; clone(): unknown } }>('Counter');
  const namesKey = new StateKey<readonly string[]>('Names');

  it('reads what was written under a typed key, undefined otherwise', () => {
    const state = new CycleState();
    expect(state.read(namesKey)).toBeUndefined();
    state.write(namesKey, ['a']);
    expect(state.read(namesKey)).toEqual(['a']);
    expect(state.has(namesKey)).toBe(true);
    state.delete(namesKey);
    expect(state.has(namesKey)).toBe(false);
  });

  it('keys are distinct even with the same name', () => {
    const state = new CycleState();
    const other = new StateKey<string>('Names');
    state.write(other, 'x');
    expect(state.read(namesKey)).toBeUndefined();
  });

  it('clone copies cloneable values and skip sets, shares the rest', () => {
    const state = new CycleState();
    const makeCounter = (count: number): { count: number; clone(): ReturnType<typeof makeCounter> } => ({
      count,
      clone() {
        return makeCounter(this.count);
      },
    });
    const names = ['n1'];
    state.write(counterKey, makeCounter(1));
    state.write(namesKey, names);
    state.skipFilterPlugins.add('NodePorts');
    const copy = state.clone();
    copy.read(counterKey)!.count = 5;
    copy.skipFilterPlugins.add('TaintToleration');
    expect(state.read(counterKey)!.count).toBe(1);
    expect(copy.read(namesKey)).toBe(names);
    expect([...state.skipFilterPlugins]).toEqual(['NodePorts']);
    expect([...copy.skipFilterPlugins]).toEqual(['NodePorts', 'TaintToleration']);
  });
});
