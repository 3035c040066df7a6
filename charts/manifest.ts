/**
 * One synthesized Kubernetes object, as `cdk8s synth` writes it: the one type every reader of
 * synthesized objects uses (the DR model, the Pulumi deployment, the restore runbook, the tests).
 *
 * A reader that needs a kind's fields narrows with `isKind`, which gives it the kind's type from
 * kubernetes-models (built-in kinds) or below (the custom resources this project writes). The
 * narrowing trusts `apiVersion` and `kind`: the objects come from cdk8s's typed constructs, and
 * the tests validate every one against its kind's OpenAPI schema (test/charts/schema.test.ts).
 */
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { ICronJob } from "kubernetes-models/batch/v1/CronJob";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { parseAllDocuments } from "yaml";

export type { IPodSpec } from "kubernetes-models/v1/PodSpec";
export type { IContainer } from "kubernetes-models/v1/Container";

/** Kubernetes' ObjectMeta (name, namespace, labels, annotations ...). */
export type ObjectMeta = NonNullable<INamespace["metadata"]>;
type LabelSelector = NonNullable<NonNullable<IPodDisruptionBudget["spec"]>["selector"]>;

/** One synthesized object. Every object cdk8s writes has a name. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta & { readonly name: string };
  readonly [field: string]: unknown;
}

/** A Prometheus alerting rule, as the PrometheusRule CRD defines it (prometheus-operator). */
export interface PrometheusAlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** monitoring.coreos.com/v1 PrometheusRule: the fields charts/constructs/backup-monitoring.ts writes. */
export interface IPrometheusRule {
  readonly apiVersion: "monitoring.coreos.com/v1";
  readonly kind: "PrometheusRule";
  readonly metadata?: ObjectMeta;
  readonly spec?: {
    readonly groups: readonly {
      readonly name: string;
      readonly interval?: string;
      readonly rules: readonly PrometheusAlertRule[];
    }[];
  };
}

/** monitoring.coreos.com/v1 ServiceMonitor: the fields charts/constructs/backup-monitoring.ts writes. */
export interface IServiceMonitor {
  readonly apiVersion: "monitoring.coreos.com/v1";
  readonly kind: "ServiceMonitor";
  readonly metadata?: ObjectMeta;
  readonly spec?: {
    readonly selector: LabelSelector;
    readonly endpoints: readonly {
      readonly port?: string;
      readonly path?: string;
      readonly interval?: string;
    }[];
  };
}

/** external-secrets.io/v1 ExternalSecret: the fields charts/constructs/postgres-access.ts writes. */
export interface IExternalSecret {
  readonly apiVersion: "external-secrets.io/v1";
  readonly kind: "ExternalSecret";
  readonly metadata?: ObjectMeta;
  readonly spec?: {
    readonly refreshInterval?: string;
    readonly secretStoreRef: { readonly kind: string; readonly name: string };
    readonly target: {
      readonly name: string;
      readonly creationPolicy?: string;
      readonly template?: {
        readonly engineVersion?: string;
        readonly data?: Readonly<Record<string, string>>;
      };
    };
    readonly dataFrom?: readonly { readonly extract?: { readonly key: string } }[];
  };
}

/** The specs the constructs write (typed with `satisfies`), so writer and readers share a type. */
export type PrometheusRuleSpec = NonNullable<IPrometheusRule["spec"]>;
export type ServiceMonitorSpec = NonNullable<IServiceMonitor["spec"]>;
export type ExternalSecretSpec = NonNullable<IExternalSecret["spec"]>;

/** The kinds whose fields a reader may narrow to, by name. */
interface Kinds {
  readonly ConfigMap: IConfigMap;
  readonly CronJob: ICronJob;
  readonly Deployment: IDeployment;
  readonly ExternalSecret: IExternalSecret;
  readonly HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  readonly Ingress: IIngress;
  readonly Job: IJob;
  readonly Namespace: INamespace;
  readonly NetworkPolicy: INetworkPolicy;
  readonly PersistentVolumeClaim: IPersistentVolumeClaim;
  readonly PodDisruptionBudget: IPodDisruptionBudget;
  readonly PrometheusRule: IPrometheusRule;
  readonly Secret: ISecret;
  readonly Service: IService;
  readonly ServiceAccount: IServiceAccount;
  readonly ServiceMonitor: IServiceMonitor;
}

export type Kind = keyof Kinds;

/** A synthesized object of kind `K`, with that kind's fields. */
export type ManifestOf<K extends Kind> = Manifest & Kinds[K];

/** The apiVersion of each kind; typed by the kind's own type, so a wrong version does not compile. */
const API_VERSIONS: { readonly [K in Kind]: Kinds[K]["apiVersion"] } = {
  ConfigMap: "v1",
  CronJob: "batch/v1",
  Deployment: "apps/v1",
  ExternalSecret: "external-secrets.io/v1",
  HorizontalPodAutoscaler: "autoscaling/v2",
  Ingress: "networking.k8s.io/v1",
  Job: "batch/v1",
  Namespace: "v1",
  NetworkPolicy: "networking.k8s.io/v1",
  PersistentVolumeClaim: "v1",
  PodDisruptionBudget: "policy/v1",
  PrometheusRule: "monitoring.coreos.com/v1",
  Secret: "v1",
  Service: "v1",
  ServiceAccount: "v1",
  ServiceMonitor: "monitoring.coreos.com/v1",
};

export function isKind<K extends Kind>(manifest: Manifest, kind: K): manifest is ManifestOf<K> {
  return manifest.kind === kind && manifest.apiVersion === API_VERSIONS[kind];
}

/** The objects of kind `kind` among `manifests`, in order. */
export function ofKind<K extends Kind>(manifests: readonly Manifest[], kind: K): ManifestOf<K>[] {
  return manifests.filter((m): m is ManifestOf<K> => isKind(m, kind));
}

/** What runs pods: the kinds whose pod spec a reader looks into. */
export type Workload = ManifestOf<"Deployment"> | ManifestOf<"CronJob"> | ManifestOf<"Job">;

export function isWorkload(manifest: Manifest): manifest is Workload {
  return isKind(manifest, "Deployment") || isKind(manifest, "CronJob") || isKind(manifest, "Job");
}

/** The pod spec of a Deployment, Job or CronJob; throws when the object has none. */
export function podSpecOf(workload: Workload): IPodSpec {
  const template =
    workload.kind === "CronJob"
      ? workload.spec?.jobTemplate.spec?.template
      : workload.spec?.template;
  if (!template?.spec) {
    throw new Error(`${workload.kind}/${workload.metadata.name} has no pod template`);
  }
  return template.spec;
}

/** The spec of `manifest`; throws when it has none. */
export function specOf<S>(manifest: Manifest & { readonly spec?: S }): S {
  const { spec } = manifest;
  if (spec === undefined) throw new Error(`${manifest.kind}/${manifest.metadata.name} has no spec`);
  return spec;
}

/** `Kind/name`, as messages and the topology diagram name an object. */
export function nameOf(manifest: Manifest): string {
  return `${manifest.kind}/${manifest.metadata.name}`;
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Whether `value` has what every synthesized object has: apiVersion, kind and a name. */
export function isManifest(value: unknown): value is Manifest {
  return (
    isRecord(value) &&
    typeof value.apiVersion === "string" &&
    typeof value.kind === "string" &&
    isRecord(value.metadata) &&
    typeof value.metadata.name === "string"
  );
}

/**
 * `values` (cdk8s's `toJson()`, parsed YAML) as manifests; throws naming `source` and the first
 * value that is not a Kubernetes object.
 */
export function toManifests(values: readonly unknown[], source: string): Manifest[] {
  return values.map((value, index) => {
    if (!isManifest(value)) {
      throw new Error(
        `${source}: document ${index + 1} is not a Kubernetes object (apiVersion, kind, metadata.name)`,
      );
    }
    return value;
  });
}

/** The objects of a multi-document YAML file, as `cdk8s synth` writes it. */
export function manifestsFromYaml(yaml: string, source: string): Manifest[] {
  const documents = parseAllDocuments(yaml).map((document, index) => {
    const [error] = document.errors;
    if (error) throw new Error(`${source}: document ${index + 1}: ${error.message}`);
    const value: unknown = document.toJS();
    return value;
  });
  return toManifests(documents, source);
}
