// SPDX-License-Identifier: Apache-2.0
// Micro benchmark of what field management adds to a pod create: the managedFields computation and
// the larger JSON the store encodes and decodes. Run: npx tsx plugins/apiserver/src/apply/create-overhead.bench.ts
import { DefaultScheme, registerBuiltinKinds } from '@cpkit/core';
import { fieldManagerContext, recordUpdate } from './record.js';

const scheme = new DefaultScheme();
registerBuiltinKinds(scheme);
const kind = scheme.resolve({ group: '', version: 'v1', kind: 'Pod' });
const ctx = fieldManagerContext(kind, 'load');

/** The pod the API benchmark creates. */
const pod = (i: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `pod-${i}`, namespace: 'bench', labels: { app: 'bench', shard: String(i % 8) } },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'registry.example/app:1.0',
        resources: { requests: { cpu: '100m', memory: '64Mi' } },
        ports: [{ containerPort: 8080 }],
      },
    ],
  },
});

function measure(label: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 2_000; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const perOp = Number(process.hrtime.bigint() - start) / n / 1000;
  console.log(`${label.padEnd(44)} ${perOp.toFixed(2)} µs/op`);
  return perOp;
}

const n = 50_000;
const record = measure('recordUpdate on create', n, (i) => {
  recordUpdate(kind, undefined, pod(i), ctx);
});
const build = measure('building the pod object alone', n, (i) => {
  pod(i);
});
const withFields = pod(1);
recordUpdate(kind, undefined, withFields, ctx);
const plainText = JSON.stringify(pod(1));
const fieldsText = JSON.stringify(withFields);
const plain = measure('JSON stringify+parse, no managedFields', n, () => {
  JSON.parse(JSON.stringify(JSON.parse(plainText)));
});
const fields = measure('JSON stringify+parse, with managedFields', n, () => {
  JSON.parse(JSON.stringify(JSON.parse(fieldsText)));
});
console.log(`bytes: ${plainText.length} → ${fieldsText.length}`);
console.log(
  `net per create ≈ ${(record - build + (fields - plain)).toFixed(2)} µs (one encode/decode round)`,
);
