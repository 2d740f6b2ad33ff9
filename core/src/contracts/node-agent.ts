// SPDX-License-Identifier: Apache-2.0
import type { Observable } from 'rxjs';
import type {
  ContainerLogEntry,
  ContainerLogOptions,
  ExecRequest,
  ExecSession,
} from './container-runtime.js';
import type { Runnable } from './runnable.js';

/**
 * Service identifier of the {@link NodeAgent} role. Implementations are also contributed as a
 * {@link Runnable}.
 * @category Contracts
 */
export const NodeAgent = Symbol.for('cpkit.NodeAgent');

/** Options of {@link NodeAgent.logs}, as `kubectl logs` sends them. @category Contracts */
export interface PodLogOptions extends ContainerLogOptions {
  /** The previous (terminated) instance of the container instead of the current one. Default false. */
  previous?: boolean;
  /** Prefix each line with its RFC 3339 timestamp when serialized. Default false. */
  timestamps?: boolean;
}

/**
 * The agent of one node, the kubelet's role: registers its Node object, renews its Lease in
 * `kube-node-lease`, turns the pods bound to its node into running containers through a
 * {@link ContainerRuntime}, runs their probes, reports pod and node status, and serves logs and exec.
 *
 * As a {@link Runnable}, `start(signal)` resolves once the node is registered and the agent watches its
 * pods; aborting `signal` stops syncing (containers keep running; the node goes NotReady once its Lease
 * expires).
 * @category Contracts
 */
export interface NodeAgent extends Runnable {
  /** The name of the Node this agent manages. */
  readonly nodeName: string;

  /**
   * The log lines of a container of a pod on this node (cold; subscribe to read, unsubscribe to stop).
   * Errors with `NotFound` when the pod or container is not on this node, and `BadRequest` when the
   * container has not started yet.
   */
  logs(
    namespace: string,
    pod: string,
    container: string,
    options?: PodLogOptions,
  ): Observable<ContainerLogEntry>;

  /**
   * Runs a command in a running container of a pod on this node (`kubectl exec`). Fails with `NotFound`
   * when the pod or container is not here and `BadRequest` when the container is not running.
   */
  exec(namespace: string, pod: string, container: string, request: ExecRequest): Promise<ExecSession>;
}
