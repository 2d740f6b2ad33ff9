// SPDX-License-Identifier: Apache-2.0
import type { Readable, Writable } from 'node:stream';
import type { Observable } from 'rxjs';

/**
 * Service identifier of the {@link ContainerRuntime} role.
 * @category Contracts
 */
export const ContainerRuntime = Symbol.for('cpkit.ContainerRuntime');

// The shapes below follow the CRI v1 `RuntimeService` and `ImageService` messages, with two deliberate
// differences: timestamps are JavaScript epoch milliseconds (CRI's int64 nanoseconds do not fit in a
// number), and exec/logs hand back streams directly instead of a streaming-server URL, because the node
// agent, not the kubelet's streaming server, serves them.

/** Labels and annotations as CRI carries them: plain string maps. @category Contracts */
export type RuntimeStringMap = Readonly<Record<string, string>>;

/** `RuntimeReady` and `NetworkReady` are the two conditions every runtime reports. @category Contracts */
export interface RuntimeCondition {
  type: 'RuntimeReady' | 'NetworkReady' | (string & {});
  status: boolean;
  reason?: string;
  message?: string;
}

/** @category Contracts */
export interface RuntimeStatus {
  conditions: RuntimeCondition[];
}

/** @category Contracts */
export interface RuntimeVersion {
  /** Version of the CRI-shaped API the runtime speaks, e.g. `v1`. */
  runtimeApiVersion: string;
  /** Name of the runtime, e.g. `containerd`, `process`, `simulated`. */
  runtimeName: string;
  runtimeVersion: string;
}

/** Identifies the pod a sandbox belongs to. @category Contracts */
export interface PodSandboxMetadata {
  name: string;
  namespace: string;
  uid: string;
  /** Incremented each time the sandbox of the same pod is recreated. Default 0. */
  attempt?: number;
}

/** Host port mapping of a sandbox. @category Contracts */
export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

/** Linux-specific sandbox options, kept to what cpkit's runtimes use. @category Contracts */
export interface LinuxPodSandboxConfig {
  /** Parent cgroup of the sandbox. */
  cgroupParent?: string;
  /** `NODE` shares the host's network namespace (hostNetwork pods); `POD` (default) gives the pod its own. */
  networkNamespace?: 'POD' | 'NODE';
  /** Sysctls to set in the sandbox. */
  sysctls?: RuntimeStringMap;
}

/** What {@link ContainerRuntime.runPodSandbox} needs to create a pod's sandbox. @category Contracts */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /**
   * Directory on the host where the sandbox's container logs go; each container's
   * {@link ContainerConfig.logPath} is relative to it.
   */
  logDirectory?: string;
  dnsConfig?: { servers?: string[]; searches?: string[]; options?: string[] };
  portMappings?: PortMapping[];
  labels?: RuntimeStringMap;
  annotations?: RuntimeStringMap;
  linux?: LinuxPodSandboxConfig;
}

/** CRI sandbox states. @category Contracts */
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** One sandbox as {@link ContainerRuntime.listPodSandboxes} returns it. @category Contracts */
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  /** Epoch milliseconds. */
  createdAt: number;
  labels: RuntimeStringMap;
  annotations: RuntimeStringMap;
  runtimeHandler?: string;
}

/** @category Contracts */
export interface PodSandboxStatus extends PodSandbox {
  /** The pod's IP addresses, primary first. Absent for host-network sandboxes. */
  network?: { ip: string; additionalIps?: string[] };
  networkNamespace?: 'POD' | 'NODE';
}

/** Filters of {@link ContainerRuntime.listPodSandboxes}; every given field must match. @category Contracts */
export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxState;
  /** Every pair must be present in the sandbox's labels. */
  labelSelector?: RuntimeStringMap;
}

/** An image reference: a name (`busybox:1.36`) or an image id. @category Contracts */
export interface ImageSpec {
  image: string;
  annotations?: RuntimeStringMap;
}

/** @category Contracts */
export interface ContainerMetadata {
  name: string;
  /** Incremented on each restart of the same container in a sandbox. Default 0. */
  attempt?: number;
}

/** A bind mount into a container. @category Contracts */
export interface ContainerMount {
  containerPath: string;
  hostPath: string;
  /** Default false. */
  readonly?: boolean;
  /** Mount propagation as CRI names it. Default `PROPAGATION_PRIVATE`. */
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

/**
 * Linux resource limits of a container, as cgroup values (what the node agent derives from the pod's
 * requests and limits).
 * @category Contracts
 */
export interface LinuxContainerResources {
  /** CFS period in microseconds. */
  cpuPeriod?: number;
  /** CFS quota in microseconds per period; absent or 0 means unlimited. */
  cpuQuota?: number;
  /** Relative CPU weight (cpu.shares). */
  cpuShares?: number;
  /** Memory limit in bytes; absent or 0 means unlimited. */
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
}

/** What {@link ContainerRuntime.createContainer} needs. @category Contracts */
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** Replaces the image's entrypoint when set. */
  command?: string[];
  /** Replaces the image's default arguments when set. */
  args?: string[];
  workingDir?: string;
  envs?: { key: string; value: string }[];
  mounts?: ContainerMount[];
  labels?: RuntimeStringMap;
  annotations?: RuntimeStringMap;
  /** Log file path relative to the sandbox's {@link PodSandboxConfig.logDirectory}. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: {
    resources?: LinuxContainerResources;
    securityContext?: { privileged?: boolean; runAsUser?: number };
  };
}

/** CRI container states. @category Contracts */
export type RuntimeContainerState =
  | 'CONTAINER_CREATED'
  | 'CONTAINER_RUNNING'
  | 'CONTAINER_EXITED'
  | 'CONTAINER_UNKNOWN';

/** One container as {@link ContainerRuntime.listContainers} returns it. @category Contracts */
export interface RuntimeContainer {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** The resolved image id the container runs. */
  imageRef: string;
  state: RuntimeContainerState;
  /** Epoch milliseconds. */
  createdAt: number;
  labels: RuntimeStringMap;
  annotations: RuntimeStringMap;
}

/** @category Contracts */
export interface RuntimeContainerStatus extends RuntimeContainer {
  /** Epoch milliseconds; 0 when not started yet. */
  startedAt: number;
  /** Epoch milliseconds; 0 when not finished. */
  finishedAt: number;
  /** Exit code; meaningful once `CONTAINER_EXITED`. */
  exitCode: number;
  /** Brief machine-readable reason, e.g. `Completed`, `Error`, `OOMKilled`. */
  reason?: string;
  message?: string;
  mounts: ContainerMount[];
  /** Absolute path of the container's log file. */
  logPath?: string;
}

/** Filters of {@link ContainerRuntime.listContainers}; every given field must match. @category Contracts */
export interface ContainerFilter {
  id?: string;
  state?: RuntimeContainerState;
  podSandboxId?: string;
  labelSelector?: RuntimeStringMap;
}

/** One image known to the runtime. @category Contracts */
export interface RuntimeImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** Size in bytes. */
  size: number;
  /** Pinned images are never garbage-collected. */
  pinned?: boolean;
}

/** Registry credentials for {@link ContainerRuntime.pullImage}. @category Contracts */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** Base64 of `username:password`, as in a docker config. */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

/** Result of {@link ContainerRuntime.execSync}. @category Contracts */
export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** A command to run inside a container with {@link ContainerRuntime.exec}. @category Contracts */
export interface ExecRequest {
  cmd: string[];
  /** Allocate a terminal; with a tty, stderr is merged into stdout. Default false. */
  tty?: boolean;
  /** Whether the caller will write to {@link ExecSession.stdin}. Default false. */
  stdin?: boolean;
}

/** A running exec: its streams and its exit. @category Contracts */
export interface ExecSession {
  stdout: Readable;
  /** Absent with a tty (merged into stdout). */
  stderr?: Readable;
  /** Present when {@link ExecRequest.stdin} was true; ending it closes the process's stdin. */
  stdin?: Writable;
  /** Resizes the terminal (tty only). */
  resize?(size: { width: number; height: number }): void;
  /** Resolves with the exit code once the process exits. */
  exitCode: Promise<number>;
}

/** Options of {@link ContainerRuntime.containerLogs}, mirroring `kubectl logs`. @category Contracts */
export interface ContainerLogOptions {
  /** Keep streaming new lines until unsubscribed. Default false (complete at the end of the log). */
  follow?: boolean;
  /** Only the last N lines. Default: all. */
  tailLines?: number;
  /** Only lines written at or after this epoch-millisecond time. */
  sinceTime?: number;
  /** Stop after this many bytes of log text. */
  limitBytes?: number;
}

/** One line of a container's log. @category Contracts */
export interface ContainerLogEntry {
  /** Epoch milliseconds at which the runtime recorded the line. */
  time: number;
  stream: 'stdout' | 'stderr';
  /** The line without its trailing newline. */
  line: string;
}

/** Resource usage of one container at one instant. @category Contracts */
export interface ContainerStats {
  containerId: string;
  metadata: ContainerMetadata;
  /** Epoch milliseconds of the sample. */
  timestamp: number;
  cpu: {
    /** Cumulative CPU time in nanoseconds. */
    usageCoreNanoSeconds: number;
    /** Average usage in nanocores over the last sampling window, when known. */
    usageNanoCores?: number;
  };
  memory: {
    /** Working-set bytes (what eviction and `kubectl top` use). */
    workingSetBytes: number;
    usageBytes?: number;
    rssBytes?: number;
  };
  /** Bytes used by the container's writable layer, when known. */
  writableLayerBytes?: number;
}

/**
 * A CRI-shaped container runtime: pod sandboxes, containers, images, exec, logs and stats. The node agent
 * turns the pods bound to its node into calls on this; implementations are named for their technology
 * (`ContainerdRuntime` over CRI gRPC, `ProcessRuntime` running host processes, `SimulatedRuntime`).
 *
 * Semantics every implementation follows:
 * - Ids are opaque, non-empty strings chosen by the runtime.
 * - Stop and remove calls are idempotent: stopping a stopped sandbox or container, or removing one that is
 *   already gone, succeeds. `removeImage` of an absent image succeeds.
 * - Status calls of an unknown id fail with `NotFound`; creating a container in an unknown or not-ready
 *   sandbox fails with `NotFound` / `BadRequest`; a missing image fails `createContainer` with `NotFound`.
 * - Every failure is a {@link StatusError}; `ServiceUnavailable` means the runtime itself is unreachable.
 * @category Contracts
 */
export interface ContainerRuntime {
  /** Name, version and API version of the runtime. */
  version(): Promise<RuntimeVersion>;
  /** Readiness of the runtime and its network; the node agent reports it in the Node's conditions. */
  status(): Promise<RuntimeStatus>;

  /**
   * Creates and starts a pod's sandbox (its network namespace and shared resources) and resolves with
   * the sandbox id once it is `SANDBOX_READY`.
   */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  /**
   * Stops every container of the sandbox (forcibly) and releases its network resources; the sandbox stays
   * listed as `SANDBOX_NOTREADY` until removed. Idempotent.
   */
  stopPodSandbox(podSandboxId: string): Promise<void>;
  /** Removes the sandbox and its containers, stopping them first if needed. Idempotent. */
  removePodSandbox(podSandboxId: string): Promise<void>;
  /** Status of one sandbox; `NotFound` if unknown. */
  podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus>;
  /** Sandboxes matching `filter` (all when absent). */
  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  /** Creates (does not start) a container in a ready sandbox; resolves with its id. */
  createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string>;
  /** Starts a created container. `BadRequest` if it is not in `CONTAINER_CREATED`. */
  startContainer(containerId: string): Promise<void>;
  /**
   * Stops a running container: the stop signal first, then SIGKILL after `timeoutSeconds` (0 kills at
   * once). Idempotent.
   */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  /** Removes a container, killing it first if it still runs. Idempotent. */
  removeContainer(containerId: string): Promise<void>;
  /** Status of one container; `NotFound` if unknown. */
  containerStatus(containerId: string): Promise<RuntimeContainerStatus>;
  /** Containers matching `filter` (all when absent). */
  listContainers(filter?: ContainerFilter): Promise<RuntimeContainer[]>;

  /** Pulls an image (or finds it locally) and resolves with its image id (`imageRef`). */
  pullImage(image: ImageSpec, auth?: RegistryAuth, sandboxConfig?: PodSandboxConfig): Promise<string>;
  /** Images matching `filter` (all when absent). */
  listImages(filter?: { image?: ImageSpec }): Promise<RuntimeImage[]>;
  /** The image, or `undefined` when it is not present (not an error, as in CRI). */
  imageStatus(image: ImageSpec): Promise<RuntimeImage | undefined>;
  /** Removes an image. Idempotent. */
  removeImage(image: ImageSpec): Promise<void>;

  /**
   * Runs `cmd` in a running container and collects its output. A non-zero exit code is a result, not an
   * error; exceeding `timeoutSeconds` (0 or absent: no timeout) fails with `Timeout`.
   */
  execSync(containerId: string, cmd: string[], timeoutSeconds?: number): Promise<ExecSyncResult>;
  /** Starts `request.cmd` in a running container and hands back its streams (for `kubectl exec`). */
  exec(containerId: string, request: ExecRequest): Promise<ExecSession>;
  /**
   * The container's log lines as a cold stream: subscribing opens the log, unsubscribing closes it. Without
   * `follow` the stream completes at the current end of the log. Errors with `NotFound` for an unknown id.
   */
  containerLogs(containerId: string, options?: ContainerLogOptions): Observable<ContainerLogEntry>;
  /** Current usage of one container; `NotFound` if unknown. */
  containerStats(containerId: string): Promise<ContainerStats>;
  /** Current usage of every container matching `filter`. */
  listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]>;
}
