import {
  configOf,
  find,
  type Manifest,
  ofKind,
  specOf,
  synthStackInMemory,
} from "../support/manifests";

const lab = synthStackInMemory(configOf({ topology: "lab" }, "lab")).synced;
const prod = synthStackInMemory(
  configOf({ topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" }, "prod"),
).synced;

const policies = (manifests: Manifest[]) => ofKind(manifests, "NetworkPolicy");
const dnsRule = {
  to: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

describe.each([
  ["lab", lab],
  ["target", prod],
])("%s: locked down by default", (_topology, manifests) => {
  test("every pod is denied all ingress and egress unless a policy allows it", () => {
    expect(find(manifests, "NetworkPolicy", "default-deny").spec).toEqual({
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
  });

  test("every pod may resolve names through cluster DNS, and nothing else by that rule", () => {
    expect(find(manifests, "NetworkPolicy", "allow-dns").spec).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [dnsRule],
    });
  });

  test("the app's pods accept traffic on the app port only", () => {
    const spec = specOf(find(manifests, "NetworkPolicy", "allow-app-ingress"));
    expect(spec.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "pra-app" } });
    expect(spec.ingress).toHaveLength(1);
    expect(spec.ingress?.[0]?.ports).toEqual([{ protocol: "TCP", port: 8080 }]);
  });
});

describe("lab", () => {
  test("only DNS and the app port: no egress rule beyond DNS", () => {
    expect(
      policies(lab)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(["allow-app-ingress", "allow-dns", "default-deny"]);
    expect(
      specOf(find(lab, "NetworkPolicy", "allow-app-ingress")).ingress?.[0]?.from,
    ).toBeUndefined();
  });
});

describe("target", () => {
  test("the app is reached only from the internal load balancers' subnets and from Prometheus", () => {
    expect(specOf(find(prod, "NetworkPolicy", "allow-app-ingress")).ingress?.[0]?.from).toEqual([
      { ipBlock: { cidr: "10.20.224.0/19" } },
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
      },
    ]);
  });

  test("egress only to the database port in the VPC, to AWS APIs over HTTPS and to the Pod Identity agent", () => {
    expect(
      policies(prod)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual([
      "allow-app-ingress",
      "allow-dns",
      "allow-egress-aws-apis",
      "allow-egress-database",
      "allow-egress-pod-identity-agent",
      "allow-egress-pod-identity-agent-ipv6",
      "default-deny",
    ]);
    expect(specOf(find(prod, "NetworkPolicy", "allow-egress-database")).egress).toEqual([
      { to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ protocol: "TCP", port: 5432 }] },
    ]);
    expect(specOf(find(prod, "NetworkPolicy", "allow-egress-aws-apis")).egress).toEqual([
      { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ]);
    expect(specOf(find(prod, "NetworkPolicy", "allow-egress-pod-identity-agent")).egress).toEqual([
      { to: [{ ipBlock: { cidr: "169.254.170.23/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
    ]);
    expect(
      specOf(find(prod, "NetworkPolicy", "allow-egress-pod-identity-agent-ipv6")).egress,
    ).toEqual([
      { to: [{ ipBlock: { cidr: "fd00:ec2::23/128" } }], ports: [{ protocol: "TCP", port: 80 }] },
    ]);
  });
});
