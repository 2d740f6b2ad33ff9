// SPDX-License-Identifier: Apache-2.0
// Protobuf bodies built the way kubectl's generators build them (Go's gogo encoding: non-pointer
// scalars written even when zero, empty strings written, zero structs as empty messages), with
// protobufjs encoders from a .proto text written here, decoded by the server and compared.
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeProtobufObject } from './protobuf.js';

const proto = `
syntax = "proto2";
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3;
  optional string selfLink = 4; optional string uid = 5; optional string resourceVersion = 6;
  optional int64 generation = 7; optional Time creationTimestamp = 8;
  map<string, string> labels = 11; map<string, string> annotations = 12;
}
message LabelSelector { map<string, string> matchLabels = 1; }
message Quantity { optional string string = 1; }
message IntOrString { optional int64 type = 1; optional int32 intVal = 2; optional string strVal = 3; }
message ContainerPort { optional string name = 1; optional int32 hostPort = 2; optional int32 containerPort = 3; optional string protocol = 4; optional string hostIP = 5; }
message ResourceRequirements { map<string, Quantity> limits = 1; map<string, Quantity> requests = 2; }
message EnvVar { optional string name = 1; optional string value = 2; }
message Container {
  optional string name = 1; optional string image = 2; repeated string command = 3; repeated string args = 4;
  optional string workingDir = 5; repeated ContainerPort ports = 6; repeated EnvVar env = 7;
  optional ResourceRequirements resources = 8; optional string terminationMessagePath = 13;
  optional string imagePullPolicy = 14; optional bool stdin = 16; optional bool stdinOnce = 17; optional bool tty = 18;
  optional string terminationMessagePolicy = 20;
}
message PodSpec {
  repeated Container containers = 2; optional string restartPolicy = 3; optional string dnsPolicy = 6;
  optional string serviceAccountName = 8; optional string nodeName = 10; optional bool hostNetwork = 11;
  optional bool hostPID = 12; optional bool hostIPC = 13; optional string schedulerName = 19;
}
message PodTemplateSpec { optional ObjectMeta metadata = 1; optional PodSpec spec = 2; }
message DeploymentStrategy { optional string type = 1; }
message DeploymentSpec { optional int32 replicas = 1; optional LabelSelector selector = 2; optional PodTemplateSpec template = 3; optional DeploymentStrategy strategy = 4; optional int32 minReadySeconds = 5; optional bool paused = 7; }
message DeploymentStatus { optional int64 observedGeneration = 1; optional int32 replicas = 2; }
message Deployment { optional ObjectMeta metadata = 1; optional DeploymentSpec spec = 2; optional DeploymentStatus status = 3; }
message ServicePort { optional string name = 1; optional string protocol = 2; optional int32 port = 3; optional IntOrString targetPort = 4; optional int32 nodePort = 5; }
message ServiceSpec { repeated ServicePort ports = 1; map<string, string> selector = 2; optional string clusterIP = 3; optional string type = 4; optional string sessionAffinity = 7; optional int32 healthCheckNodePort = 12; }
message Service { optional ObjectMeta metadata = 1; optional ServiceSpec spec = 2; }
message JobSpec { optional int32 parallelism = 1; optional PodTemplateSpec template = 6; optional int32 backoffLimit = 7; }
message JobStatus { optional int32 active = 4; optional int32 succeeded = 5; }
message Job { optional ObjectMeta metadata = 1; optional JobSpec spec = 2; optional JobStatus status = 3; }
message JobTemplateSpec { optional ObjectMeta metadata = 1; optional JobSpec spec = 2; }
message CronJobSpec { optional string schedule = 1; optional JobTemplateSpec jobTemplate = 5; }
message CronJob { optional ObjectMeta metadata = 1; optional CronJobSpec spec = 2; }
message ObjectReference { optional string name = 3; }
message ServiceAccount { optional ObjectMeta metadata = 1; repeated ObjectReference secrets = 2; optional bool automountServiceAccountToken = 4; }
message PodSpecWithVolumes { repeated Container containers = 2; repeated Volume volumes = 1; }
message Volume { optional string name = 1; }
message DeploymentSpecWithVolumes { optional PodTemplateSpecWithVolumes template = 3; }
message PodTemplateSpecWithVolumes { optional PodSpecWithVolumes spec = 2; }
message DeploymentWithVolumes { optional ObjectMeta metadata = 1; optional DeploymentSpecWithVolumes spec = 2; }
`;
const root = protobuf.parse(proto, { keepCase: true }).root;

/** `k8s\0` + runtime.Unknown{typeMeta, raw, "", ""}, as client-go writes it. */
function body(apiVersion: string, kind: string, message: string, object: object): Buffer {
  const type = root.lookupType(message);
  const raw = type.encode(type.fromObject(object)).finish();
  const unknown = root.lookupType('Unknown');
  const encoded = unknown
    .encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' }))
    .finish();
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), encoded]);
}

/** Go's zero values that gogo writes although JSON would omit them. */
const goMeta = (extra: object) => ({
  selfLink: '',
  uid: '',
  resourceVersion: '',
  generation: 0,
  creationTimestamp: {},
  ...extra,
});
const goContainer = (extra: object) => ({
  workingDir: '',
  resources: {},
  terminationMessagePath: '',
  imagePullPolicy: '',
  stdin: false,
  stdinOnce: false,
  tty: false,
  terminationMessagePolicy: '',
  ...extra,
});
const goPodSpec = (extra: object) => ({
  restartPolicy: '',
  dnsPolicy: '',
  serviceAccountName: '',
  nodeName: '',
  hostNetwork: false,
  hostPID: false,
  hostIPC: false,
  schedulerName: '',
  ...extra,
});

describe('decodeProtobufObject', () => {
  it('decodes `kubectl create deployment web --image=nginx --replicas=2 --port=80`', () => {
    const decoded = decodeProtobufObject(
      body('apps/v1', 'Deployment', 'Deployment', {
        metadata: goMeta({ name: 'web', namespace: '', labels: { app: 'web' } }),
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: goMeta({ name: '', labels: { app: 'web' } }),
            spec: goPodSpec({
              containers: [
                goContainer({
                  name: 'nginx',
                  image: 'nginx',
                  ports: [{ name: '', hostPort: 0, containerPort: 80, protocol: '', hostIP: '' }],
                  resources: {
                    limits: { cpu: { string: '500m' } },
                    requests: { memory: { string: '64Mi' } },
                  },
                  command: ['nginx'],
                  args: ['-g', 'daemon off;'],
                  env: [{ name: 'A', value: '' }],
                  imagePullPolicy: 'IfNotPresent',
                }),
              ],
            }),
          },
          strategy: {},
          minReadySeconds: 0,
          paused: false,
        },
        status: { observedGeneration: 0, replicas: 0 },
      }),
    );
    expect(decoded).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx',
                command: ['nginx'],
                args: ['-g', 'daemon off;'],
                ports: [{ containerPort: 80 }],
                env: [{ name: 'A' }],
                resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
                imagePullPolicy: 'IfNotPresent',
              },
            ],
          },
        },
      },
    });
  });

  it('keeps a zero in a pointer field (--replicas=0)', () => {
    const decoded = decodeProtobufObject(
      body('apps/v1', 'Deployment', 'Deployment', {
        metadata: goMeta({ name: 'zero' }),
        spec: { replicas: 0, selector: { matchLabels: { a: 'b' } }, minReadySeconds: 0 },
      }),
    );
    expect(decoded.spec).toEqual({ replicas: 0, selector: { matchLabels: { a: 'b' } } });
  });

  it('decodes services: ports with int and string target ports, node ports, selector, type', () => {
    const decoded = decodeProtobufObject(
      body('v1', 'Service', 'Service', {
        metadata: goMeta({ name: 'svc', labels: { app: 'svc' } }),
        spec: {
          ports: [
            {
              name: '80-8080',
              protocol: 'TCP',
              port: 80,
              targetPort: { type: 0, intVal: 8080, strVal: '' },
              nodePort: 0,
            },
            {
              name: 'web',
              protocol: 'TCP',
              port: 81,
              targetPort: { type: 1, intVal: 0, strVal: 'http' },
              nodePort: 30001,
            },
          ],
          selector: { app: 'svc' },
          clusterIP: '',
          type: 'NodePort',
          sessionAffinity: '',
          healthCheckNodePort: 0,
        },
      }),
    );
    expect(decoded).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', labels: { app: 'svc' } },
      spec: {
        ports: [
          { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'web', protocol: 'TCP', port: 81, targetPort: 'http', nodePort: 30001 },
        ],
        selector: { app: 'svc' },
        type: 'NodePort',
      },
    });
  });

  it('decodes jobs, cron jobs (with their pod templates) and service accounts', () => {
    const template = {
      metadata: goMeta({ name: '' }),
      spec: goPodSpec({ containers: [goContainer({ name: 'j', image: 'busybox' })], restartPolicy: 'Never' }),
    };
    expect(
      decodeProtobufObject(
        body('batch/v1', 'Job', 'Job', {
          metadata: goMeta({ name: 'j' }),
          spec: { template },
          status: { active: 0, succeeded: 0 },
        }),
      ),
    ).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { template: { spec: { containers: [{ name: 'j', image: 'busybox' }], restartPolicy: 'Never' } } },
    });
    expect(
      decodeProtobufObject(
        body('batch/v1', 'CronJob', 'CronJob', {
          metadata: goMeta({ name: 'cj' }),
          spec: {
            schedule: '*/1 * * * *',
            jobTemplate: { metadata: goMeta({ name: 'cj' }), spec: { template } },
          },
        }),
      ),
    ).toMatchObject({
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: { metadata: { name: 'cj' }, spec: { template: { spec: { restartPolicy: 'Never' } } } },
      },
    });
    expect(
      decodeProtobufObject(
        body('v1', 'ServiceAccount', 'ServiceAccount', {
          metadata: goMeta({ name: 'sa', namespace: 'default' }),
          automountServiceAccountToken: false,
        }),
      ),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sa', namespace: 'default' },
      automountServiceAccountToken: false,
    });
  });

  it('refuses (415) a field it does not declare rather than dropping it, and 400s garbage', () => {
    const withVolumes = body('apps/v1', 'Deployment', 'DeploymentWithVolumes', {
      metadata: goMeta({ name: 'v' }),
      spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 'data' }] } } },
    });
    expect(() => decodeProtobufObject(withVolumes)).toThrow(
      expect.objectContaining({ code: 415, message: expect.stringContaining('PodSpec.1') }),
    );
    const broken = Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x0a, 0x05, 0x0a])]);
    expect(() => decodeProtobufObject(broken)).toThrow(expect.objectContaining({ code: 400 }));
    const pod = body('v1', 'Pod', 'ServiceAccount', { metadata: goMeta({ name: 'p' }) });
    expect(() => decodeProtobufObject(pod)).toThrow(expect.objectContaining({ code: 415 }));
  });
});
