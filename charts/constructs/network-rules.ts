/**
 * The namespace's network rules: nothing in or out by default, then exactly what the design
 * needs. DNS for every pod; the app's port for the clients named; each egress rule named by
 * what it is for (the database, AWS APIs), so a reviewer reads intent, not ports.
 */
import { k8s } from "cdk8s-plus-28";
import { Construct } from "constructs";
import type { AppWorkload } from "./app-workload";
import { APP_PORT, PLATFORM } from "./names";

/** Where traffic comes from or goes to: pods (by namespace and labels) or an address range. */
export type NetworkPeer =
  | {
      readonly namespaceLabels: Readonly<Record<string, string>>;
      readonly podLabels?: Readonly<Record<string, string>>;
    }
  | { readonly cidr: string };

export interface EgressRule {
  /** What the rule is for, a DNS label: the policy is named `allow-egress-<purpose>`. */
  readonly purpose: string;
  readonly to: NetworkPeer;
  readonly port: number;
}

export interface NetworkRulesProps {
  readonly app: AppWorkload;
  /**
   * Who may reach the app's port.
   * @default any source (the lab: reached by port-forward or any in-cluster client)
   */
  readonly appClients?: readonly NetworkPeer[];
  /** Where pods may connect, besides cluster DNS. @default nowhere */
  readonly egress?: readonly EgressRule[];
}

const DNS_PEER: NetworkPeer = {
  namespaceLabels: { "kubernetes.io/metadata.name": "kube-system" },
  podLabels: PLATFORM.dnsPodLabels,
};

export class NetworkRules extends Construct {
  constructor(scope: Construct, id: string, props: NetworkRulesProps) {
    super(scope, id);
    const everyPod = {};
    this.policy("default-deny", { podSelector: everyPod, policyTypes: ["Ingress", "Egress"] });
    this.policy("allow-dns", {
      podSelector: everyPod,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [peer(DNS_PEER)],
          ports: [
            { protocol: "UDP", port: k8s.IntOrString.fromNumber(53) },
            { protocol: "TCP", port: k8s.IntOrString.fromNumber(53) },
          ],
        },
      ],
    });
    this.policy("allow-app-ingress", {
      podSelector: { matchLabels: { ...props.app.selectorLabels } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ...(props.appClients ? { from: props.appClients.map(peer) } : {}),
          ports: [{ protocol: "TCP", port: k8s.IntOrString.fromNumber(APP_PORT) }],
        },
      ],
    });
    for (const rule of props.egress ?? []) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(rule.purpose)) {
        throw new Error(`NetworkRules: egress purpose "${rule.purpose}" must be a DNS label`);
      }
      this.policy(`allow-egress-${rule.purpose}`, {
        podSelector: everyPod,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [peer(rule.to)],
            ports: [{ protocol: "TCP", port: k8s.IntOrString.fromNumber(rule.port) }],
          },
        ],
      });
    }
  }

  private policy(name: string, spec: k8s.NetworkPolicySpec): void {
    new k8s.KubeNetworkPolicy(this, name, { metadata: { name }, spec });
  }
}

function peer(from: NetworkPeer): k8s.NetworkPolicyPeer {
  if ("cidr" in from) return { ipBlock: { cidr: from.cidr } };
  return {
    namespaceSelector: { matchLabels: { ...from.namespaceLabels } },
    ...(from.podLabels ? { podSelector: { matchLabels: { ...from.podLabels } } } : {}),
  };
}

/** Prometheus of the kube-prometheus-stack add-on, scraping /metrics. */
export const PROMETHEUS_PEER: NetworkPeer = {
  namespaceLabels: { "kubernetes.io/metadata.name": PLATFORM.monitoringNamespace },
  podLabels: PLATFORM.prometheusPodLabels,
};
