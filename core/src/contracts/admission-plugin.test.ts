// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import {
  type AdmissionPlugin,
  isMutatingAdmissionPlugin,
  isValidatingAdmissionPlugin,
} from './admission-plugin.js';

describe('admission plugin kinds', () => {
  const handlesAll = (): boolean => true;
  it.each([
    ['mutating', { name: 'M', handles: handlesAll, admit: async () => {} }, true, false],
    ['validating', { name: 'V', handles: handlesAll, validate: async () => {} }, false, true],
    ['both', { name: 'B', handles: handlesAll, admit: async () => {}, validate: async () => {} }, true, true],
    ['neither', { name: 'N', handles: handlesAll }, false, false],
  ] as const)('%s', (_label, plugin: AdmissionPlugin, mutating, validating) => {
    expect(isMutatingAdmissionPlugin(plugin)).toBe(mutating);
    expect(isValidatingAdmissionPlugin(plugin)).toBe(validating);
  });
});
