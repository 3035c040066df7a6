/**
 * The platform add-ons' Helm charts and the service accounts their controllers run as. Plain
 * data, free of any SDK import: the AWS side (Pod Identity associations) and the Kubernetes side
 * (the releases) read the same names, and tests check the pins without loading a provider.
 */
import { ALERTMANAGER_SERVICE_ACCOUNT } from "../../charts/addon-values";

export interface AddonChart {
  readonly chart: string;
  /** Pinned: an upgrade is a reviewed change, never whatever the repository serves today. */
  readonly version: string;
  readonly repository: string;
  /** Namespace of the release; also the Helm release name's scope. */
  readonly namespace: string;
}

export const ADDON_CHARTS = {
  externalSecrets: {
    chart: "external-secrets",
    version: "1.3.2",
    repository: "https://charts.external-secrets.io",
    namespace: "external-secrets",
  },
  prometheusStack: {
    chart: "kube-prometheus-stack",
    version: "87.21.0",
    repository: "https://prometheus-community.github.io/helm-charts",
    namespace: "monitoring",
  },
  loadBalancerController: {
    chart: "aws-load-balancer-controller",
    version: "1.17.1",
    repository: "https://aws.github.io/eks-charts",
    namespace: "kube-system",
  },
  // The resource metrics API (metrics.k8s.io) the app's HorizontalPodAutoscaler reads CPU from;
  // EKS does not install it, and without it the autoscaler never scales.
  metricsServer: {
    chart: "metrics-server",
    version: "3.13.1",
    repository: "https://kubernetes-sigs.github.io/metrics-server/",
    namespace: "kube-system",
  },
  // Adds nodes when pods are Pending (the HPA's replicas, a lost zone's replacements), up to each
  // zone's node group maximum (pra:maxNodesPerZone), and removes idle ones. Chart 9.59.0 runs
  // Cluster Autoscaler 1.35.0, the minor of the clusters' Kubernetes (CLUSTER_AUTOSCALER_MINOR).
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    version: "9.59.0",
    repository: "https://kubernetes.github.io/autoscaler",
    namespace: "kube-system",
  },
} as const satisfies Record<string, AddonChart>;

/** The Kubernetes minor the pinned Cluster Autoscaler is built for: it must match the cluster's. */
export const CLUSTER_AUTOSCALER_MINOR = "1.35";

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** The controllers' service accounts, which EKS Pod Identity binds to AWS roles. */
export const ADDON_SERVICE_ACCOUNTS = {
  externalSecrets: { namespace: ADDON_CHARTS.externalSecrets.namespace, name: "external-secrets" },
  loadBalancerController: {
    namespace: ADDON_CHARTS.loadBalancerController.namespace,
    name: "aws-load-balancer-controller",
  },
  // kube-prometheus-stack's Alertmanager: it publishes the target's alerts to SNS.
  alertmanager: {
    namespace: ADDON_CHARTS.prometheusStack.namespace,
    name: ALERTMANAGER_SERVICE_ACCOUNT,
  },
  clusterAutoscaler: {
    namespace: ADDON_CHARTS.clusterAutoscaler.namespace,
    name: "cluster-autoscaler",
  },
} as const satisfies Record<string, ServiceAccountRef>;

/**
 * Built-in kinds the Load Balancer Controller's admission webhooks intercept with
 * failurePolicy Fail (mservice.elbv2.k8s.aws on every Service, vingress.elbv2.k8s.aws on
 * Ingresses): created after the webhook is registered but before its pods are ready, they are
 * refused, so they wait for the release like custom resources do.
 */
export const LOAD_BALANCER_CONTROLLER_WEBHOOK_KINDS: readonly string[] = ["Service", "Ingress"];
