/** `npm run synth` and `npm run restore-job`, run as a user runs them, in a copy of the project. */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  containerOf,
  find,
  isKind,
  kustomizationResources,
  type Manifest,
  manifestsFromYaml,
  specOf,
} from "../support/manifests";
import { copyProject, type ProjectCopy } from "../support/project-copy";

const ROOT = join(__dirname, "..", "..");
let project: ProjectCopy;

beforeAll(() => {
  project = copyProject();
  copyFileSync(join(ROOT, "Pulumi.lab.yaml"), join(project.dir, "Pulumi.lab.yaml"));
  project.writeStack("small", {
    "pra:topology": "lab",
    "pra:namespace": "small",
    "pra:rpo": "15m",
    "pra:drScenarios": ["pod-crash"],
  });
});
afterAll(() => project.remove());

function objectsIn(file: string): Manifest[] {
  return manifestsFromYaml(readFileSync(file, "utf8"), file);
}

describe("npm run synth", () => {
  let result: ReturnType<ProjectCopy["run"]>;
  beforeAll(() => {
    result = project.run("npm", ["run", "synth"]);
  });

  test("succeeds", () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
  });

  test("writes dist/<stack>/ for every stack file, ops/ beside the synced files", () => {
    const dist = join(project.dir, "dist");
    expect(readdirSync(dist).sort()).toEqual(["lab", "small"]);
    expect(readdirSync(join(dist, "lab")).sort()).toEqual([
      "0000-lab-namespace.k8s.yaml",
      "0001-lab.k8s.yaml",
      "addons",
      "alertmanager",
      "kustomization.yaml",
      "ops",
    ]);
    // kube-prometheus-stack's alertmanager.config, beside the synced files (monitoring is on).
    expect(readdirSync(join(dist, "lab", "alertmanager"))).toEqual(["alertmanager.yaml"]);
    expect(readdirSync(join(dist, "lab", "ops"))).toEqual(["lab-restore.k8s.yaml"]);
  });

  test("the synced files hold the lab's objects and the ops folder the restore Job", () => {
    const synced = [
      ...objectsIn(join(project.dir, "dist/lab/0000-lab-namespace.k8s.yaml")),
      ...objectsIn(join(project.dir, "dist/lab/0001-lab.k8s.yaml")),
    ].map((o) => `${o.kind}/${o.metadata.name}`);
    // Pulumi.lab.yaml turns monitoring on: alert rules, a ServiceMonitor, a dashboard.
    expect(synced.sort()).toEqual([
      "ConfigMap/pra-app-dashboard",
      "CronJob/sqlite-backup",
      "CronJob/sqlite-restore-test",
      "Deployment/pra-app",
      "Namespace/pra",
      "NetworkPolicy/allow-app-ingress",
      "NetworkPolicy/allow-dns",
      "NetworkPolicy/default-deny",
      "PersistentVolumeClaim/pra-backup",
      "PersistentVolumeClaim/pra-data",
      "PrometheusRule/pra-app-recovery",
      "Service/pra-app",
      "ServiceMonitor/pra-app",
    ]);
    const ops = objectsIn(join(project.dir, "dist/lab/ops/lab-restore.k8s.yaml"));
    expect(ops.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Job/sqlite-restore"]);
  });

  test("the kustomization lists the synced files and not ops/", () => {
    const resources = kustomizationResources(join(project.dir, "dist/lab/kustomization.yaml"));
    expect(resources).toEqual(["0000-lab-namespace.k8s.yaml", "0001-lab.k8s.yaml"]);
  });

  test("each stack gets its own settings", () => {
    const objects = objectsIn(join(project.dir, "dist/small/0001-small.k8s.yaml"));
    const backup = find(objects, "CronJob", "sqlite-backup");
    expect(backup.metadata.namespace).toBe("small");
    expect(specOf(backup).schedule).toBe("*/10 * * * *");
  });
});

describe("npm run synth with a bad stack file", () => {
  let broken: ProjectCopy;
  beforeAll(() => {
    broken = copyProject();
    copyFileSync(join(ROOT, "Pulumi.lab.yaml"), join(broken.dir, "Pulumi.lab.yaml"));
    broken.writeStack("bad", { "pra:topology": "lab", "pra:rpo": "30s", "pra:imag": "x:1" });
    // Valid settings, but a restore nobody is alerted to cannot meet a 5m RTO.
    broken.writeStack("unwatched", {
      "pra:topology": "lab",
      "pra:rto": "5m",
      "pra:monitoring": false,
    });
    // The last good synth's output, which a GitOps tool may be syncing.
    mkdirSync(join(broken.dir, "dist", "lab"), { recursive: true });
    writeFileSync(join(broken.dir, "dist", "lab", "kustomization.yaml"), "resources: []\n");
  });
  afterAll(() => broken.remove());

  test("stops with every problem, settings and objectives, and leaves dist/ as it was", () => {
    const result = broken.run("npm", ["run", "synth"]);
    expect(result.status).toBe(1);
    // The messages are the whole story: no stack trace (cdk8s-cli's) under them.
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).toContain("Pulumi.bad.yaml: pra:rpo: expected at least 1m30s");
    expect(result.stderr).toContain(
      "Pulumi.bad.yaml: pra:imag: unknown setting; did you mean pra:image?",
    );
    expect(result.stderr).toContain(
      "Pulumi.unwatched.yaml: data-volume-loss: RTO declared 5m (pra:rto), none: nobody is alerted " +
        "(no PraAppUnavailable rule: set pra:monitoring: true).",
    );
    // Nothing written, and the last good output left as it was.
    expect(readdirSync(join(broken.dir, "dist"))).toEqual(["lab"]);
    expect(readdirSync(join(broken.dir, "dist", "lab"))).toEqual(["kustomization.yaml"]);
  });
});

describe("npm run restore-job", () => {
  test("writes a restore Job for the chosen point into restore-jobs/<stack>/, which synth leaves alone", () => {
    const result = project.run("npm", [
      "run",
      "--silent",
      "restore-job",
      "--",
      "--stack",
      "lab",
      "--point",
      "app-1700000000.db",
    ]);
    expect(result.status).toBe(0);
    const file = join(project.dir, "restore-jobs/lab/restore-app-1700000000.k8s.yaml");
    expect(result.stdout.trim()).toBe("restore-jobs/lab/restore-app-1700000000.k8s.yaml");
    const [job] = objectsIn(file);
    expect(job?.kind).toBe("Job");
    expect(job?.metadata.labels?.["pra.dev/restore-point-time"]).toBe("1700000000");
    expect(job && isKind(job, "Job") ? containerOf(job).args : undefined).toEqual([
      "restore",
      "--point",
      "app-1700000000.db",
    ]);
  });

  test.each([
    [
      "../../etc/passwd",
      "it is a path, and a restore point is a file name inside the backup directory",
    ],
  ])("refuses %j and writes nothing", (point, reason) => {
    const before = readdirSync(join(project.dir, "dist/lab/ops")).sort();
    const result = project.run("npm", [
      "run",
      "--silent",
      "restore-job",
      "--",
      "--stack",
      "lab",
      "--point",
      point,
    ]);
    // Bad usage, as for npm run restore: exit 2 with the reason and the usage.
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`restore point ${JSON.stringify(point)} refused: ${reason}`);
    expect(result.stderr).toContain("usage: npm run restore-job");
    expect(readdirSync(join(project.dir, "dist/lab/ops")).sort()).toEqual(before);
  });

  test("requires --stack and --point", () => {
    const result = project.run(process.execPath, [
      "--require",
      "tsx/cjs",
      "scripts/restore-job.ts",
      "--stack",
      "lab",
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("one of --point or --before is required");
  });
});
