/**
 * One stack's manifests: the synced charts (what a GitOps tool applies) and the ops charts
 * (run-once operations such as a restore, applied by a person). Used by `cdk8s synth`
 * (scripts/synth.ts), the restore-job command, and the Pulumi program.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App, type Chart, YamlOutputType } from "cdk8s";
import { stringify } from "yaml";
import type { PraConfig, TargetConfig } from "../config";
import { drDesignOf } from "../config/dr-design";
import { writeAddonValues } from "./addon-values";
import { writeAlertmanagerConfig } from "./alertmanager-config";
import { stackLabels } from "./constructs/names";
import { NamespaceChart } from "./constructs/namespace-chart";
import { restorePointTime } from "./constructs/restore-point";
import { LabChart, LabOpsChart } from "./lab/lab-chart";
import { type Manifest, toManifests } from "./manifest";
import { TargetChart } from "./target/target-chart";

export interface StackCharts {
  /** In dependency order: what needs a namespace comes after it. */
  readonly synced: readonly Chart[];
  readonly ops: readonly Chart[];
}

/** Declares `config`'s charts: synced ones in `synced`, run-once ones in `ops`. */
export function defineStack(config: PraConfig, apps: { synced: App; ops: App }): StackCharts {
  const labels = stackLabels(config.stack);
  const namespace = new NamespaceChart(apps.synced, `${config.stack}-namespace`, {
    name: config.namespace,
    labels,
  });
  if (config.topology === "lab") {
    const workload = new LabChart(apps.synced, config.stack, { config, labels });
    workload.addDependency(namespace);
    const ops = new LabOpsChart(apps.ops, `${config.stack}-restore`, { config, labels });
    return { synced: [namespace, workload], ops: [ops] };
  }
  // The target's restores are AWS operations (point-in-time recovery, AWS Backup): no ops Job.
  const workload = new TargetChart(apps.synced, config.stack, { config, labels });
  workload.addDependency(namespace);
  return { synced: [namespace, workload], ops: [] };
}

/**
 * The target's workload as the DR region's cluster runs it after a failover: the same charts,
 * with the network rules naming the DR VPC's ranges and the image from the DR region's registry
 * (config/dr-design.ts). Applied by the failover (dr/failover-runbook.ts), never synced; in warm
 * standby Pulumi deploys it scaled to zero beforehand (infra/kubernetes/dr-workloads.ts).
 */
export function defineFailover(config: TargetConfig, app: App): Chart[] {
  const labels = stackLabels(config.stack);
  const namespace = new NamespaceChart(app, `${config.stack}-failover-namespace`, {
    name: config.namespace,
    labels,
  });
  const workload = new TargetChart(app, `${config.stack}-failover`, {
    config: { ...config, image: drDesignOf(config).image },
    labels,
    region: "dr",
  });
  workload.addDependency(namespace);
  return [namespace, workload];
}

/** A stack's charts, declared once, with the objects they synthesize. */
export interface PreparedStack {
  readonly config: PraConfig;
  /** Where writeStack writes the synced files; ops/ goes below it. */
  readonly outdir: string;
  readonly synced: App;
  readonly ops: App;
  readonly objects: { readonly synced: Manifest[]; readonly ops: Manifest[] };
}

export function prepareStack(
  config: PraConfig,
  outdir: string = join("dist", config.stack),
): PreparedStack {
  const synced = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const ops = new App({
    outdir: join(outdir, "ops"),
    yamlOutputType: YamlOutputType.FILE_PER_CHART,
  });
  const charts = defineStack(config, { synced, ops });
  const json = (chart: Chart) => toManifests(chart.toJson(), chart.node.path);
  return {
    config,
    outdir,
    synced,
    ops,
    objects: { synced: charts.synced.flatMap(json), ops: charts.ops.flatMap(json) },
  };
}

/**
 * Writes dist/<stack>/ (synced), dist/<stack>/ops/ (run-once operations), addons/ (the Prometheus
 * stack's values, with monitoring) and, for the target, dist/<stack>/failover/ with its own
 * kustomization.yaml; returns the files written, relative to `outdir`.
 */
export function writeStack(prepared: PreparedStack): string[] {
  const { outdir, config } = prepared;
  const opsdir = join(outdir, "ops");
  const failoverdir = join(outdir, "failover");
  prepared.synced.synth();
  if (prepared.ops.charts.length > 0) prepared.ops.synth();
  if (config.topology === "target") {
    const failover = new App({
      outdir: failoverdir,
      yamlOutputType: YamlOutputType.FILE_PER_CHART,
    });
    defineFailover(config, failover);
    failover.synth();
    // For a GitOps tool in the DR cluster (or `kubectl apply -k`). Named `Kustomization`, a name
    // kustomize, Argo CD and Flux recognise, without the .yaml that would make the failover
    // runbook's `kubectl apply -f dist/<stack>/failover/` send it to the API server as an object.
    writeKustomization(
      failoverdir,
      "the DR cluster's workload, applied during a failover (docs/aws-target.md#failover)",
      "Kustomization",
    );
  }
  const manifests = readdirSync(outdir)
    .filter((name) => name.endsWith(".k8s.yaml"))
    .sort();
  // Argo CD and Flux both build a folder holding a kustomization.yaml from exactly the files it
  // lists, so ops/, failover/ and addons/ stay out of a sync even when the tool is told to recurse.
  writeKustomization(outdir, "ops/, failover/ and addons/ are deliberately not listed");
  // Not Kubernetes objects: kube-prometheus-stack's alertmanager.config (alertmanager/) and its
  // whole values (addons/), for GitOps users installing the chart themselves.
  const alerting = config.monitoring ? writeAlertmanagerConfig(config, outdir) : [];
  const addons = writeAddonValues(config, outdir);
  return [
    ...manifests,
    "kustomization.yaml",
    ...alerting,
    ...addons,
    ...(existsSync(opsdir) ? readdirSync(opsdir).sort() : []).map((name) => join("ops", name)),
    ...(existsSync(failoverdir) ? readdirSync(failoverdir).sort() : []).map((name) =>
      join("failover", name),
    ),
  ];
}

/** A kustomization in `dir` listing exactly its *.k8s.yaml files, in apply order. */
function writeKustomization(dir: string, note: string, file = "kustomization.yaml"): void {
  const resources = readdirSync(dir)
    .filter((name) => name.endsWith(".k8s.yaml"))
    .sort();
  writeFileSync(
    join(dir, file),
    `# Generated by npm run synth (charts/stacks.ts): ${note}.\n${stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources,
    })}`,
  );
}

export function synthStack(config: PraConfig, outdir: string): string[] {
  return writeStack(prepareStack(config, outdir));
}

/**
 * The restore Job as the YAML `kubectl apply` reads: the newest valid point (the ops chart
 * `cdk8s synth` writes), a chosen one, or the newest taken at or before `before` (unix seconds).
 * `npm run restore-job` and `npm run restore` both use it, so the file a person applies and the
 * manifest the runbook applies are the same bytes.
 */
export function restoreJobYaml(config: PraConfig, point?: string, before?: number): string {
  if (config.topology !== "lab") {
    throw new Error(
      `${config.file}: the ${config.topology} topology restores with AWS tools, not a Job`,
    );
  }
  const app = new App();
  if (before !== undefined) {
    new LabOpsChart(app, `${config.stack}-restore-before-${before}`, {
      config,
      before,
      labels: stackLabels(config.stack),
    });
  } else if (point === undefined) {
    defineStack(config, { synced: new App(), ops: app });
  } else {
    restorePointTime(point); // refuses anything but app-<unix-seconds>.db before it names a chart or a file
    new LabOpsChart(app, `${config.stack}-restore-${point.replace(/\.db$/, "")}`, {
      config,
      point,
      labels: stackLabels(config.stack),
    });
  }
  return app.synthYaml();
}

/** A restore Job for one chosen point, written beside the default one in dist/<stack>/ops/. */
export function writeRestoreJob(config: PraConfig, point: string, opsdir: string): string {
  const yaml = restoreJobYaml(config, point);
  mkdirSync(opsdir, { recursive: true });
  const file = join(opsdir, `restore-${point.replace(/\.db$/, "")}.k8s.yaml`);
  writeFileSync(file, yaml);
  return file;
}
