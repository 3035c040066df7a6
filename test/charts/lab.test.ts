import { Testing } from "cdk8s";
import { AppWorkload } from "../../charts/constructs/app-workload";
import { BackupSchedule } from "../../charts/constructs/backup-schedule";
import { TASK_NAMES } from "../../charts/constructs/database";
import { RestoreTestSchedule } from "../../charts/constructs/restore-test-schedule";
import { SqliteStorage } from "../../charts/constructs/sqlite-storage";
import { timingFor } from "../../config";
import {
  CLUSTER_SCOPED_KINDS,
  configOf,
  containerOf,
  find,
  isWorkload,
  podSpecOf,
  specOf,
  synthStackInMemory,
  type Workload,
} from "../support/manifests";

const lab = synthStackInMemory(configOf({ topology: "lab" }, "lab"));
const all = [...lab.synced, ...lab.ops];

describe("the lab's objects, with the workshop's names", () => {
  test("exactly these objects are synced", () => {
    expect(lab.synced.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      "CronJob/sqlite-backup",
      "CronJob/sqlite-restore-test",
      "Deployment/pra-app",
      "Namespace/pra",
      "NetworkPolicy/allow-app-ingress",
      "NetworkPolicy/allow-dns",
      "NetworkPolicy/default-deny",
      "PersistentVolumeClaim/pra-backup",
      "PersistentVolumeClaim/pra-data",
      "Service/pra-app",
    ]);
  });

  test("the restore Job is a run-once operation, never synced", () => {
    expect(lab.ops.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(["Job/sqlite-restore"]);
    expect(lab.synced.some((m) => m.kind === "Job")).toBe(false);
  });

  test("namespaced objects are in pra; cluster-scoped ones carry no namespace", () => {
    for (const manifest of all) {
      if (CLUSTER_SCOPED_KINDS.has(manifest.kind))
        expect(manifest.metadata.namespace).toBeUndefined();
      else expect(manifest.metadata.namespace).toBe("pra");
    }
  });

  test("the namespace enforces the restricted Pod Security Standard", () => {
    expect(find(all, "Namespace", "pra").metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
    });
  });

  test("both volumes are ReadWriteOnce claims of exactly the configured size", () => {
    for (const name of ["pra-data", "pra-backup"]) {
      expect(find(all, "PersistentVolumeClaim", name).spec).toEqual({
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "200Mi" } },
      });
    }
  });

  test("sizes and storage class come from the settings, unrounded", () => {
    const { synced } = synthStackInMemory(
      configOf({
        topology: "lab",
        dataVolumeSize: "300Mi",
        backupVolumeSize: "1500M",
        storageClass: "local-path",
      }),
    );
    expect(find(synced, "PersistentVolumeClaim", "pra-data").spec).toMatchObject({
      resources: { requests: { storage: "300Mi" } },
      storageClassName: "local-path",
    });
    expect(
      specOf(find(synced, "PersistentVolumeClaim", "pra-backup")).resources?.requests?.storage,
    ).toBe("1500M");
  });
});

describe("the app", () => {
  const deployment = find(all, "Deployment", "pra-app");
  const pod = podSpecOf(deployment);
  const container = containerOf(deployment);

  test("one replica, replaced and never rolled: one SQLite writer at a time", () => {
    expect(specOf(deployment).replicas).toBe(1);
    expect(specOf(deployment).strategy).toEqual({ type: "Recreate" });
  });

  test("runs the app image with the app contract's environment", () => {
    expect(container.image).toBe("pra-app:0.1.0");
    expect(container.command).toEqual(["pra-app"]);
    expect(container.args).toEqual(["serve"]);
    expect(container.env).toEqual([
      { name: "PORT", value: "8080" },
      { name: "DB_PATH", value: "/data/app.db" },
      { name: "BACKUP_DIR", value: "/backup" },
    ]);
    expect(container.ports).toEqual([{ containerPort: 8080, name: "http" }]);
  });

  test("mounts the data volume at /data and the backup volume at /backup", () => {
    const claimOf = (volumeName: string | undefined) =>
      pod.volumes?.find((v) => v.name === volumeName)?.persistentVolumeClaim?.claimName;
    const mounts = Object.fromEntries(
      (container.volumeMounts ?? []).map((m) => [m.mountPath, m.name]),
    );
    expect(claimOf(mounts["/data"])).toBe("pra-data");
    expect(claimOf(mounts["/backup"])).toBe("pra-backup");
  });

  test("liveness on /health, readiness on /ready", () => {
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: "/health", port: 8080 });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: "/ready", port: 8080 });
  });

  test("the Service sends port 80 to the app's 8080 and selects the app's pods", () => {
    const service = specOf(find(all, "Service", "pra-app"));
    expect(service.ports).toEqual([{ name: "http", port: 80, targetPort: 8080 }]);
    expect(service.selector).toEqual({ "app.kubernetes.io/name": "pra-app" });
    const selector = service.selector;
    if (!selector) throw new Error("the Service selects no pods");
    expect(specOf(deployment).template.metadata?.labels).toMatchObject(selector);
  });

  test("a single-writer database refuses more than one replica", () => {
    const chart = Testing.chart();
    const storage = new SqliteStorage(chart, "storage");
    expect(
      () =>
        new AppWorkload(chart, "app", {
          runtime: { image: "pra-app:0.1.0" },
          database: storage.access,
          replicas: 2,
        }),
    ).toThrow(
      'AppWorkload "pra-app": replicas must be 1 with a single-writer database ' +
        "(SQLite on a ReadWriteOnce volume), got 2",
    );
  });
});

describe("the backup CronJob", () => {
  const cronJob = find(all, "CronJob", "sqlite-backup");

  test("runs pra-app backup with the retention from the settings", () => {
    const container = containerOf(cronJob);
    expect(container.image).toBe("pra-app:0.1.0");
    expect(container.command).toEqual(["pra-app"]);
    expect(container.args).toEqual(["backup", "--keep-last", "3", "--keep-within", "1h"]);
  });

  test("on the schedule derived from the RPO, in UTC, never two at once", () => {
    expect(cronJob.spec).toMatchObject({
      schedule: "* * * * *",
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
    });
  });

  test("a late or hung run is gone before the next one is due", () => {
    const start = specOf(cronJob).startingDeadlineSeconds;
    const active = specOf(cronJob).jobTemplate.spec?.activeDeadlineSeconds;
    expect(start).toBe(10);
    expect(active).toBe(20);
    expect((start ?? NaN) + (active ?? NaN)).toBeLessThanOrEqual(60);
  });

  test("job history is bounded", () => {
    expect(specOf(cronJob).successfulJobsHistoryLimit).toBe(3);
    expect(specOf(cronJob).failedJobsHistoryLimit).toBe(3);
  });

  test("follows a different RPO", () => {
    const { synced } = synthStackInMemory(configOf({ topology: "lab", rpo: "15m" }));
    const other = specOf(find(synced, "CronJob", "sqlite-backup"));
    expect(other.schedule).toBe("*/10 * * * *");
    expect(other.startingDeadlineSeconds).toBe(100);
    expect(other.jobTemplate.spec?.activeDeadlineSeconds).toBe(200);
  });

  test("refuses deadlines longer than the interval", () => {
    const chart = Testing.chart();
    const storage = new SqliteStorage(chart, "storage");
    const app = new AppWorkload(chart, "app", {
      runtime: { image: "x:1" },
      database: storage.access,
    });
    const timing = { ...timingFor("* * * * *", 60), activeDeadlineSeconds: 55 };
    expect(
      () =>
        new BackupSchedule(chart, "backup", {
          runtime: { image: "x:1" },
          database: storage.access,
          app,
          timing,
          keepLast: 1,
          keepWithinSeconds: 60,
        }),
    ).toThrow(
      "BackupSchedule: a run may start 10s late and take 55s, longer than the 60s between runs",
    );
  });
});

describe("the restore test CronJob", () => {
  const cronJob = find(all, "CronJob", "sqlite-restore-test");

  test("runs pra-app verify against the age the backups guarantee", () => {
    expect(containerOf(cronJob).args).toEqual(["verify", "--max-age", "1m30s"]);
    expect(cronJob.spec).toMatchObject({
      schedule: "*/10 * * * *",
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
    });
  });

  test("a failed test is not retried into a pass", () => {
    expect(specOf(cronJob).jobTemplate.spec?.backoffLimit).toBe(0);
  });
});

describe("placement on ReadWriteOnce volumes", () => {
  const appLabels = { "app.kubernetes.io/name": "pra-app" };

  test.each(["sqlite-backup", "sqlite-restore-test"])("%s must run on the app's node", (name) => {
    const affinity = podSpecOf(find(all, "CronJob", name)).affinity;
    expect(affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: appLabels }, topologyKey: "kubernetes.io/hostname" },
    ]);
  });

  test("the tasks cannot be declared without the app on a single-writer database", () => {
    const chart = Testing.chart();
    const storage = new SqliteStorage(chart, "storage");
    const runtime = { image: "x:1" };
    const schedule = { timing: timingFor("* * * * *", 60), keepLast: 1, keepWithinSeconds: 60 };
    const backupWithoutApp = () =>
      // @ts-expect-error -- the compiler refuses a SQLite backup without the app it must sit beside
      new BackupSchedule(chart, "backup", { runtime, database: storage.access, ...schedule });
    // And the construct refuses it too, for a caller the compiler does not check.
    expect(backupWithoutApp).toThrow(
      "BackupSchedule: a single-writer database (sqlite on ReadWriteOnce volumes) needs the app, " +
        "whose node the task must run on",
    );
    const test = { runtime, database: storage.access, schedule: "*/10 * * * *", maxAgeSeconds: 90 };
    const restoreTestWithoutApp = () =>
      // @ts-expect-error -- the same for the restore test
      new RestoreTestSchedule(chart, "restore-test", test);
    expect(restoreTestWithoutApp).toThrow(
      "RestoreTestSchedule: a single-writer database (sqlite on ReadWriteOnce volumes)",
    );
  });

  test("the tasks' names follow the engine", () => {
    const chart = Testing.chart();
    const storage = new SqliteStorage(chart, "storage");
    const runtime = { image: "x:1" };
    const app = new AppWorkload(chart, "app", { runtime, database: storage.access });
    const backup = new BackupSchedule(chart, "backup", {
      runtime,
      database: storage.access,
      app,
      timing: timingFor("* * * * *", 60),
      keepLast: 1,
      keepWithinSeconds: 60,
    });
    const restoreTest = new RestoreTestSchedule(chart, "restore-test", {
      runtime,
      database: storage.access,
      app,
      schedule: "*/10 * * * *",
      maxAgeSeconds: 90,
    });
    expect([backup.cronJob.name, restoreTest.cronJob.name]).toEqual([
      TASK_NAMES.sqlite.backup,
      TASK_NAMES.sqlite.restoreTest,
    ]);
    expect(TASK_NAMES).toEqual({
      sqlite: { backup: "sqlite-backup", restoreTest: "sqlite-restore-test" },
      postgres: { backup: "postgres-export", restoreTest: "postgres-restore-test" },
    });
  });

  test("the restore Job does not wait for the app pod, which is scaled to zero while it runs", () => {
    expect(podSpecOf(find(all, "Job", "sqlite-restore")).affinity).toBeUndefined();
  });
});

describe("the restore Job", () => {
  const job = find(all, "Job", "sqlite-restore");

  test("restores the newest valid point by default, once", () => {
    expect(containerOf(job).args).toEqual(["restore"]);
    expect(specOf(job).backoffLimit).toBe(0);
  });

  test("mounts both volumes", () => {
    const claims = (podSpecOf(job).volumes ?? [])
      .filter((v) => v.persistentVolumeClaim)
      .map((v) => v.persistentVolumeClaim?.claimName);
    expect(claims.sort()).toEqual(["pra-backup", "pra-data"]);
  });
});

describe("every container is hardened", () => {
  const workloads = all.filter(isWorkload);

  test.each(workloads.map((m): [string, Workload] => [`${m.kind}/${m.metadata.name}`, m]))(
    "%s",
    (_name, manifest) => {
      const pod = podSpecOf(manifest);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsGroup: 10001,
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: "RuntimeDefault" },
        });
        const text: unknown = expect.any(String);
        expect(container.resources?.requests).toEqual(
          expect.objectContaining({ cpu: text, memory: text }),
        );
        expect(container.resources?.limits).toEqual(
          expect.objectContaining({ cpu: text, memory: text }),
        );
        expect(container.image).toMatch(/:(?!latest$)[\w.-]+$|@sha256:/);
        // The root filesystem is read-only: /tmp is a bounded emptyDir.
        const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
        expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toEqual({
          sizeLimit: "64Mi",
        });
      }
    },
  );
});
