// SPDX-License-Identifier: Apache-2.0
import type { CronJob, DaemonSet, Deployment, Job, JobCondition, ReplicaSet, StatefulSet } from '@cpkit/core';
import { humanDuration, parseTimestamp, timestampSince } from './duration.js';
import { containerCells, formatLabels, formatSelector } from './format.js';
import { ageColumn, column, type KindPrinter, nameColumn, type TableColumnDefinition } from './table.js';

const containersColumns: TableColumnDefinition[] = [
  column('Containers', 'string', 'Names of the containers in the pod template.', { priority: 1 }),
  column('Images', 'string', 'Images of the containers in the pod template.', { priority: 1 }),
  column('Selector', 'string', 'The label selector of the pods.', { priority: 1 }),
];

/**
 * Deployments: `NAME READY UP-TO-DATE AVAILABLE AGE`, wide `CONTAINERS IMAGES SELECTOR`.
 * @category API server
 */
export const deploymentPrinter: KindPrinter<Deployment> = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'Ready replicas out of desired replicas.'),
    column('Up-to-date', 'integer', 'Replicas updated to the latest pod template.'),
    column('Available', 'integer', 'Replicas available to serve.'),
    ageColumn,
    ...containersColumns,
  ],
  cells(deployment, now) {
    const status = deployment.status;
    // An unset spec.replicas defaults to 1 on write.
    const desired = deployment.spec?.replicas ?? 1;
    return [
      deployment.metadata?.name ?? '',
      `${status?.readyReplicas ?? 0}/${desired}`,
      status?.updatedReplicas ?? 0,
      status?.availableReplicas ?? 0,
      timestampSince(deployment.metadata?.creationTimestamp, now),
      ...containerCells(deployment.spec?.template?.spec?.containers),
      formatSelector(deployment.spec?.selector),
    ];
  },
};

/**
 * ReplicaSets: `NAME DESIRED CURRENT READY AGE`, wide `CONTAINERS IMAGES SELECTOR`.
 * @category API server
 */
export const replicaSetPrinter: KindPrinter<ReplicaSet> = {
  columns: [
    nameColumn,
    column('Desired', 'integer', 'Desired replicas.'),
    column('Current', 'integer', 'Replicas that exist.'),
    column('Ready', 'integer', 'Replicas that are ready.'),
    ageColumn,
    ...containersColumns,
  ],
  cells(replicaSet, now) {
    return [
      replicaSet.metadata?.name ?? '',
      replicaSet.spec?.replicas ?? 1,
      replicaSet.status?.replicas ?? 0,
      replicaSet.status?.readyReplicas ?? 0,
      timestampSince(replicaSet.metadata?.creationTimestamp, now),
      ...containerCells(replicaSet.spec?.template?.spec?.containers),
      formatSelector(replicaSet.spec?.selector),
    ];
  },
};

/**
 * DaemonSets: `NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE`, wide
 * `CONTAINERS IMAGES SELECTOR`.
 * @category API server
 */
export const daemonSetPrinter: KindPrinter<DaemonSet> = {
  columns: [
    nameColumn,
    column('Desired', 'integer', 'Nodes that should run the daemon pod.'),
    column('Current', 'integer', 'Nodes that run at least one daemon pod.'),
    column('Ready', 'integer', 'Nodes whose daemon pod is ready.'),
    column('Up-to-date', 'integer', 'Nodes that run the updated daemon pod.'),
    column('Available', 'integer', 'Nodes whose daemon pod is available.'),
    column('Node Selector', 'string', 'The node selector of the pod template.'),
    ageColumn,
    ...containersColumns,
  ],
  cells(daemonSet, now) {
    const status = daemonSet.status;
    return [
      daemonSet.metadata?.name ?? '',
      status?.desiredNumberScheduled ?? 0,
      status?.currentNumberScheduled ?? 0,
      status?.numberReady ?? 0,
      status?.updatedNumberScheduled ?? 0,
      status?.numberAvailable ?? 0,
      formatLabels(daemonSet.spec?.template?.spec?.nodeSelector),
      timestampSince(daemonSet.metadata?.creationTimestamp, now),
      ...containerCells(daemonSet.spec?.template?.spec?.containers),
      formatSelector(daemonSet.spec?.selector),
    ];
  },
};

function hasCondition(conditions: JobCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** A job's STATUS cell: the first of these that applies, in upstream's order. */
function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasCondition(conditions, 'Complete')) return 'Complete';
  if (hasCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(conditions, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: number): string {
  const start = parseTimestamp(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTimestamp(job.status?.completionTime) ?? now;
  return humanDuration(end - start);
}

/**
 * Jobs: `NAME STATUS COMPLETIONS DURATION AGE`, wide `CONTAINERS IMAGES SELECTOR`. DURATION runs
 * from `status.startTime` to `status.completionTime` (or now, while running).
 * @category API server
 */
export const jobPrinter: KindPrinter<Job> = {
  columns: [
    nameColumn,
    column('Status', 'string', 'The status of the job.'),
    column('Completions', 'string', 'Succeeded pods out of the desired completions.'),
    column('Duration', 'string', 'How long the job ran, or has been running.'),
    ageColumn,
    ...containersColumns,
  ],
  cells(job, now) {
    return [
      job.metadata?.name ?? '',
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      timestampSince(job.metadata?.creationTimestamp, now),
      ...containerCells(job.spec?.template?.spec?.containers),
      formatSelector(job.spec?.selector),
    ];
  },
};

/**
 * StatefulSets: `NAME READY AGE`, wide `CONTAINERS IMAGES` (upstream shows no selector here).
 * @category API server
 */
export const statefulSetPrinter: KindPrinter<StatefulSet> = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'Ready replicas out of desired replicas.'),
    ageColumn,
    containersColumns[0],
    containersColumns[1],
  ],
  cells(statefulSet, now) {
    return [
      statefulSet.metadata?.name ?? '',
      `${statefulSet.status?.readyReplicas ?? 0}/${statefulSet.spec?.replicas ?? 1}`,
      timestampSince(statefulSet.metadata?.creationTimestamp, now),
      ...containerCells(statefulSet.spec?.template?.spec?.containers),
    ];
  },
};

/**
 * CronJobs: `NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE`, wide `CONTAINERS IMAGES
 * SELECTOR`.
 * @category API server
 */
export const cronJobPrinter: KindPrinter<CronJob> = {
  columns: [
    nameColumn,
    column('Schedule', 'string', 'The cron schedule of the job.'),
    column('Timezone', 'string', 'The time zone the schedule is interpreted in.'),
    column('Suspend', 'boolean', 'Whether new runs are suspended.'),
    column('Active', 'integer', 'Jobs that are running.'),
    column('Last Schedule', 'string', 'Time since the job was last scheduled.'),
    ageColumn,
    ...containersColumns,
  ],
  cells(cronJob, now) {
    const suspend = cronJob.spec?.suspend;
    const lastSchedule = cronJob.status?.lastScheduleTime;
    const selector = formatSelector(cronJob.spec?.jobTemplate?.spec?.selector);
    return [
      cronJob.metadata?.name ?? '',
      cronJob.spec?.schedule ?? '',
      cronJob.spec?.timeZone ?? '<none>',
      suspend === undefined ? '<unset>' : suspend ? 'True' : 'False',
      cronJob.status?.active?.length ?? 0,
      lastSchedule ? timestampSince(lastSchedule, now) : '<none>',
      timestampSince(cronJob.metadata?.creationTimestamp, now),
      ...containerCells(cronJob.spec?.jobTemplate?.spec?.template?.spec?.containers),
      // Upstream formats this selector with FormatLabelSelector, which prints an empty one as <none>.
      selector || '<none>',
    ];
  },
};
