// SPDX-License-Identifier: Apache-2.0
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  ClusterRoleBinding,
  ConfigMap,
  Container,
  CronJob,
  CustomResourceDefinition,
  DaemonSet,
  Deployment,
  EndpointSlice,
  Endpoints,
  Event,
  HorizontalPodAutoscaler,
  Job,
  LabelSelector,
  Lease,
  Namespace,
  Node,
  ObjectMeta,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ReplicaSet,
  Role,
  Secret,
  Service,
  ServiceAccount,
  StatefulSet,
} from './types.js';

// expectTypeOf assertions fail in the type checker (tsc over the test files), not at run time;
// at run time this file proves the re-exports resolve.
describe('types', () => {
  it('exposes every built-in kind the kit serves with ObjectMeta metadata', () => {
    expectTypeOf<Pod['metadata']>().toEqualTypeOf<ObjectMeta | undefined>();
    expectTypeOf<Deployment['spec']>().not.toBeAny();
    expectTypeOf<Deployment>().toHaveProperty('status');
    expectTypeOf<ReplicaSet>().toHaveProperty('spec');
    expectTypeOf<DaemonSet>().toHaveProperty('spec');
    expectTypeOf<StatefulSet>().toHaveProperty('spec');
    expectTypeOf<Job>().toHaveProperty('spec');
    expectTypeOf<CronJob>().toHaveProperty('spec');
    expectTypeOf<Lease>().toHaveProperty('spec');
    expectTypeOf<EndpointSlice>().toHaveProperty('endpoints');
    expectTypeOf<Endpoints>().toHaveProperty('subsets');
    expectTypeOf<HorizontalPodAutoscaler>().toHaveProperty('spec');
    expectTypeOf<Role>().toHaveProperty('rules');
    expectTypeOf<ClusterRoleBinding>().toHaveProperty('roleRef');
    expectTypeOf<CustomResourceDefinition>().toHaveProperty('spec');
    expectTypeOf<ConfigMap>().toHaveProperty('data');
    expectTypeOf<Secret>().toHaveProperty('data');
    expectTypeOf<ServiceAccount>().toHaveProperty('secrets');
    expectTypeOf<Event>().toHaveProperty('involvedObject');
    expectTypeOf<PersistentVolume>().toHaveProperty('spec');
    expectTypeOf<PersistentVolumeClaim>().toHaveProperty('spec');
    expectTypeOf<Namespace>().toHaveProperty('status');
    expectTypeOf<Node>().toHaveProperty('status');
    expectTypeOf<Service>().toHaveProperty('spec');
    expectTypeOf<LabelSelector>().toHaveProperty('matchExpressions');
  });

  it('builds a typed object a user would write', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [] } };
    expect(pod.metadata?.name).toBe('web');
    expectTypeOf(pod.spec?.containers).toEqualTypeOf<Container[] | undefined>();
  });
});
