// SPDX-License-Identifier: Apache-2.0
/**
 * The TypeScript types of the built-in kinds cpkit serves, re-exported from the well-kept
 * `kubernetes-types` package (generated from the upstream OpenAPI) so that code across the kit
 * imports them from one place and we never maintain hand-written copies.
 *
 * Only types are exported here: there is no runtime code, so importing this file costs nothing.
 * `Status`, `StatusCause` and `StatusDetails` of meta/v1 are deliberately left out: cpkit's own
 * versions live in `errors/status-error.ts`.
 *
 * @module
 * @category API machinery
 */

// resource.Quantity travels as a string on the wire; `quantity.ts` parses it.
export type { Quantity as QuantityString } from 'kubernetes-types/api/resource.js';
// apiextensions.k8s.io/v1
export type {
  CustomResourceDefinition,
  CustomResourceDefinitionList,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionSpec,
  CustomResourceDefinitionVersion,
  JSONSchemaProps,
} from 'kubernetes-types/apiextensions/v1.js';
// apps/v1
export type {
  ControllerRevision,
  DaemonSet,
  DaemonSetList,
  Deployment,
  DeploymentCondition,
  DeploymentList,
  ReplicaSet,
  ReplicaSetList,
  StatefulSet,
  StatefulSetList,
} from 'kubernetes-types/apps/v1.js';
// autoscaling/v2
export type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerList,
  MetricSpec,
  MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
// batch/v1
export type { CronJob, CronJobList, Job, JobCondition, JobList } from 'kubernetes-types/batch/v1.js';
// coordination.k8s.io/v1
export type { Lease, LeaseList, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
// core/v1
export type {
  Binding,
  ConfigMap,
  ConfigMapList,
  Container,
  ContainerPort,
  ContainerStatus,
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Endpoints,
  EndpointsList,
  EnvVar,
  Event,
  EventList,
  EventSource,
  LimitRange,
  Namespace,
  NamespaceList,
  Node,
  NodeAddress,
  NodeAffinity,
  NodeCondition,
  NodeList,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  NodeSpec,
  NodeStatus,
  ObjectReference,
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimList,
  PersistentVolumeList,
  Pod,
  PodAffinityTerm,
  PodCondition,
  PodList,
  PodSpec,
  PodStatus,
  PodTemplateSpec,
  Probe,
  ResourceQuota,
  ResourceRequirements,
  Secret,
  SecretList,
  Service,
  ServiceAccount,
  ServiceAccountList,
  ServiceList,
  ServicePort,
  ServiceSpec,
  Taint,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  VolumeMount,
} from 'kubernetes-types/core/v1.js';
// discovery.k8s.io/v1
export type {
  Endpoint,
  EndpointConditions,
  EndpointPort as EndpointSlicePort,
  EndpointSlice,
  EndpointSliceList,
} from 'kubernetes-types/discovery/v1.js';
// meta/v1
export type {
  APIGroup,
  APIGroupList,
  APIResource,
  APIResourceList,
  APIVersions,
  Condition,
  DeleteOptions as MetaDeleteOptions,
  LabelSelector,
  LabelSelectorRequirement,
  ListMeta,
  ManagedFieldsEntry,
  MicroTime,
  ObjectMeta,
  OwnerReference,
  Preconditions,
  Time,
  WatchEvent as MetaWatchEvent,
} from 'kubernetes-types/meta/v1.js';
// policy/v1 (DefaultPreemption honours PodDisruptionBudgets)
export type {
  PodDisruptionBudget,
  PodDisruptionBudgetList,
  PodDisruptionBudgetSpec,
} from 'kubernetes-types/policy/v1.js';
// rbac.authorization.k8s.io/v1
export type {
  ClusterRole,
  ClusterRoleBinding,
  ClusterRoleBindingList,
  ClusterRoleList,
  PolicyRule,
  Role,
  RoleBinding,
  RoleBindingList,
  RoleList,
  RoleRef,
  Subject,
} from 'kubernetes-types/rbac/v1.js';
