import { ofKind } from "../../charts/manifest";
import { prepareStack } from "../../charts/stacks";
import { type Assessment, assess } from "../../dr/assess";
import {
  ALERT_PIPELINE,
  CUTOVER,
  DNS_SWITCH,
  RDS_CROSS_REGION_BACKUP_COPY,
  RDS_MULTI_AZ_FAILOVER,
  RDS_PITR_LOG_UPLOAD,
  RDS_REPLICA_PROMOTION,
  REGION_OUTAGE_NOTICE,
  rdsRestore,
} from "../../dr/figures";
import { failoverSeconds, failoverSteps, modelTargets } from "../../dr/failover-runbook";
import type { Bound, Recovery } from "../../dr/recovery";
import { targetRecoveries } from "../../dr/target-scenarios";
import { configOf } from "../support/manifests";

const recovery = (a: Assessment, scenario: string): Recovery =>
  a.recoveries.find((r) => r.scenario === scenario)!;
const secondsOf = (bound: Bound): number => {
  if (!("seconds" in bound)) throw new Error(`no figure: ${bound.none}`);
  return bound.seconds;
};
const prodValues = { topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" };

/** Someone to page: without a receiver, no manual recovery has a bounded RTO (dr/alerting.ts). */
const WEBHOOK = "https://hooks.example.com/pra";

describe("lab at its defaults (monitoring on)", () => {
  const config = configOf(
    { topology: "lab", monitoring: true, rto: "10m", alertWebhookUrl: WEBHOOK },
    "lab",
  );
  const lab = assess(config);
  const { timing } = config.backup;

  test("every scenario is modelled, and the defaults hold", () => {
    expect(lab.recoveries.map((r) => r.scenario)).toEqual([
      "pod-crash",
      "node-loss",
      "data-volume-loss",
      "backup-volume-loss",
      "both-volumes-loss",
      "zone-loss",
      "region-loss",
      "operator-error",
      "backups-deleted",
    ]);
    expect(lab.violations).toEqual([]);
  });

  test("data volume loss: RPO at most the backup interval plus its deadlines, read from the CronJob", () => {
    const r = recovery(lab, "data-volume-loss");
    expect(secondsOf(r.rpo)).toBe(
      timing.intervalSeconds + timing.startingDeadlineSeconds + timing.activeDeadlineSeconds,
    );
    expect(secondsOf(r.rpo)).toBe(90);
    expect(r.mode).toBe("manual");
    expect(r.runbook[0]).toBe("# all steps at once: npm run restore -- --stack lab");
    expect(r.runbook.join("\n")).toContain("kubectl -n pra scale deployment/pra-app --replicas=0");
  });

  test("data volume loss: RTO is alert + on-call + the restore runbook", () => {
    // PraAppUnavailable for 2m, the alert pipeline, 5m on-call, then: 30s grace, two pod starts,
    // reading 200Mi twice at 50 MiB/s, 10s readiness.
    const restore = 30 + 15 + 8 + 15 + 10;
    expect(secondsOf(recovery(lab, "data-volume-loss").rto)).toBe(
      120 + ALERT_PIPELINE.seconds + 300 + restore,
    );
  });

  test("pod crash: automatic, nothing lost, back after liveness, restart and readiness", () => {
    const r = recovery(lab, "pod-crash");
    expect(r).toMatchObject({
      rpo: { seconds: 0 },
      rto: { seconds: 30 + 15 + 10 },
      mode: "automatic",
      peopleMinutes: 0,
    });
  });

  test("both volumes lost (one node's disk): no recovery point at all", () => {
    for (const scenario of [
      "both-volumes-loss",
      "node-loss",
      "zone-loss",
      "region-loss",
      "backups-deleted",
    ]) {
      const r = recovery(lab, scenario);
      expect(r.mode).toBe("not survived");
      const survives: unknown = expect.stringContaining("no recovery point survives");
      expect(r.rpo).toEqual({ none: survives });
    }
  });

  test("backup volume loss: nothing lost; the app restarts once so the claim can be recreated", () => {
    const r = recovery(lab, "backup-volume-loss");
    // 30 s grace, the pod's start and its readiness: the claim is released only once no pod mounts it.
    expect(r).toMatchObject({ rpo: { seconds: 0 }, rto: { seconds: 55 }, mode: "manual" });
    expect(r.basis).toContain(
      "until the runbook's backup, a second failure would have no restore point",
    );
    expect(r.runbook).toContain(
      "kubectl -n pra create job sqlite-backup-manual --from=cronjob/sqlite-backup",
    );
  });
});

describe("settings that break an objective", () => {
  test("a longer schedule than the objects' objectives: the check reads the CronJob actually synthesized", () => {
    const config = configOf(
      { topology: "lab", monitoring: true, rto: "10m", alertWebhookUrl: WEBHOOK },
      "lab",
    );
    const { objects } = prepareStack(config);
    const tampered = structuredClone(objects);
    const cronJob = ofKind(tampered.synced, "CronJob").find(
      (m) => m.metadata.name === "sqlite-backup",
    );
    if (!cronJob?.spec) throw new Error("no sqlite-backup CronJob");
    cronJob.spec.schedule = "*/5 * * * *";
    const { violations } = assess(config, tampered);
    expect(violations.map((v) => v.scenario)).toEqual(["data-volume-loss", "operator-error"]);
    expect(violations[0]!.message).toMatch(
      /^Pulumi\.lab\.yaml: data-volume-loss: RPO declared 2m \(pra:rpo\), achievable 5m30s\. How: .*sqlite-backup runs every 5m, may start 10s late and take 20s.*Fix: a shorter pra:rpo/,
    );
  });

  test("a shorter retention than an error may go unnoticed", () => {
    const a = assess(
      configOf(
        {
          topology: "lab",
          monitoring: true,
          rto: "10m",
          retention: "10m",
          alertWebhookUrl: WEBHOOK,
        },
        "lab",
      ),
    );
    expect(a.violations).toHaveLength(1);
    expect(a.violations[0]!.message).toBe(
      "Pulumi.lab.yaml: operator-error: RPO declared 2m (pra:rpo), none: restore points reach " +
        "back 10m, but an error may go unnoticed for 30m (pra:errorDetectionTime). " +
        `How: ${recovery(a, "operator-error").mechanism}; ` +
        `${recovery(a, "operator-error").basis.join("; ")}. ` +
        "Fix: a longer pra:retention, or a shorter pra:errorDetectionTime, " +
        "or remove operator-error from pra:drScenarios.",
    );
  });

  test("no alerting: a manual recovery has no bounded RTO", () => {
    const a = assess(configOf({ topology: "lab", rto: "10m" }, "lab"));
    expect(a.violations.map((v) => v.scenario)).toEqual(["data-volume-loss"]);
    expect(a.violations[0]!.message).toContain(
      "RTO declared 10m (pra:rto), none: nobody is alerted (no PraAppUnavailable rule: set pra:monitoring: true)",
    );
  });

  test("a single zone: the lab declaring zone loss is refused", () => {
    const a = assess(
      configOf(
        { topology: "lab", monitoring: true, rto: "10m", drScenarios: ["zone-loss"] },
        "lab",
      ),
    );
    expect(a.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(
        /^Pulumi\.lab\.yaml: zone-loss: RPO declared 2m \(pra:rpo\), none: no recovery point survives: the lab runs in one zone/,
      ),
      expect.stringMatching(
        /^Pulumi\.lab\.yaml: zone-loss: RTO declared 10m \(pra:rto\), none: no recovery point survives/,
      ),
    ]);
  });

  test("a target whose pods are not spread over zones does not survive a zone's loss", () => {
    const config = configOf(prodValues, "prod");
    const { objects } = prepareStack(config);
    const tampered = structuredClone(objects);
    const podSpec = ofKind(tampered.synced, "Deployment")[0]?.spec?.template.spec;
    if (!podSpec) throw new Error("no Deployment");
    delete podSpec.topologySpreadConstraints;
    const r = recovery(assess(config, tampered), "zone-loss");
    expect(r.mode).toBe("not survived");
    expect(r.rpo).toEqual({ none: "the app is not spread over zones" });
  });
});

describe("the database's Multi-AZ standby, as the design says (multiAz)", () => {
  const prod = assess(configOf(prodValues, "prod"));
  if (prod.facts.topology !== "target" || prod.config.topology !== "target") {
    throw new Error("prod is a target stack");
  }
  const config = prod.config;
  const withMultiAz = prod.facts;
  const withoutMultiAz = {
    ...withMultiAz,
    design: {
      ...withMultiAz.design,
      database: { ...withMultiAz.design.database, multiAz: false },
    },
  };
  const of = (facts: typeof withMultiAz, scenario: string) =>
    targetRecoveries(facts, config).find((r) => r.scenario === scenario)!;

  test("with it (every committed stack), a zone's loss is the standby's automatic failover", () => {
    expect(withMultiAz.design.database.multiAz).toBe(true);
    const zone = of(withMultiAz, "zone-loss");
    expect({ mode: zone.mode, rpo: zone.rpo, rto: zone.rto }).toEqual({
      mode: "automatic",
      rpo: { seconds: 0 },
      rto: { seconds: RDS_MULTI_AZ_FAILOVER.seconds },
    });
  });

  test.each(["zone-loss", "data-volume-loss"])(
    "without it, %s is a person's restore to the latest restorable time",
    (scenario) => {
      const r = of(withoutMultiAz, scenario);
      const restore = rdsRestore(config.database.allocatedStorageGb).seconds;
      expect(r.mode).toBe("manual");
      // Logs not yet uploaded are lost; the restore and the switch follow the page and on-call.
      expect(r.rpo).toEqual({ seconds: RDS_PITR_LOG_UPLOAD.seconds });
      expect(secondsOf(r.rto)).toBeGreaterThan(
        config.objectives.onCallResponseSeconds + restore + CUTOVER.seconds,
      );
      expect(r.basis.join("\n")).toContain("single-AZ database");
      expect(r.runbook.join("\n")).toContain("aws rds restore-db-instance-to-point-in-time");
    },
  );

  test("without it, an RPO under the log upload interval no longer holds a zone's loss", () => {
    // prod's own 15m RPO still holds (5m lost at most); a 4m RPO does not.
    const tight = { ...config, objectives: { ...config.objectives, rpoSeconds: 4 * 60 } };
    const zone = targetRecoveries(withoutMultiAz, tight).find((r) => r.scenario === "zone-loss")!;
    expect(secondsOf(zone.rpo)).toBeGreaterThan(tight.objectives.rpoSeconds);
    expect(secondsOf(of(withMultiAz, "zone-loss").rpo)).toBeLessThanOrEqual(
      tight.objectives.rpoSeconds,
    );
  });
});

/** The failover runbook the model counts for an assessed target stack. */
function failoverOf(a: Assessment) {
  if (a.config.topology !== "target") throw new Error("a target stack");
  return failoverSteps(a.config, modelTargets(a.config), a.facts.objects);
}

describe("prod, with each DR strategy", () => {
  const pilot = assess(configOf({ ...prodValues, drStrategy: "pilot-light" }, "prod"));
  const warm = assess(configOf({ ...prodValues, drStrategy: "warm-standby" }, "prod"));
  const restore = rdsRestore(50).seconds;

  test("automatic recoveries: pod, node, storage and zone losses lose nothing", () => {
    for (const a of [pilot, warm]) {
      expect(recovery(a, "data-volume-loss")).toMatchObject({
        rpo: { seconds: 0 },
        rto: { seconds: RDS_MULTI_AZ_FAILOVER.seconds },
        mode: "automatic",
      });
      expect(recovery(a, "zone-loss")).toMatchObject({ rpo: { seconds: 0 }, mode: "automatic" });
      expect(recovery(a, "node-loss")).toMatchObject({ rpo: { seconds: 0 }, mode: "automatic" });
    }
  });

  test("pilot light: region loss restores replicated backups, which lag by the log upload and the copy", () => {
    const r = recovery(pilot, "region-loss");
    expect(secondsOf(r.rpo)).toBe(
      RDS_PITR_LOG_UPLOAD.seconds + RDS_CROSS_REGION_BACKUP_COPY.seconds,
    );
    // The failover's time is its runbook's: the restore dominates, the rest are its other steps.
    const steps = failoverOf(pilot);
    expect(steps.find((step) => step.id === "wait-database")?.figure.seconds).toBe(restore);
    expect(secondsOf(r.rto)).toBe(REGION_OUTAGE_NOTICE.seconds + 15 * 60 + failoverSeconds(steps));
    expect(failoverSeconds(steps)).toBeGreaterThan(restore + DNS_SWITCH.seconds);
    expect(r.mode).toBe("manual");
    expect(r.runbook.join("\n")).toContain("npm run failover -- --stack prod --dry-run");
    expect(r.runbook.join("\n")).toContain("Restore pra-prod in eu-central-1 as pra-prod-restored");
  });

  test("pilot light cannot hold a 15m RPO across regions, and the check says what to change", () => {
    expect(pilot.violations.map((v) => v.scenario)).toEqual(["both-volumes-loss", "region-loss"]);
    expect(pilot.violations[1]!.message).toMatch(
      /^Pulumi\.prod\.yaml: region-loss: RPO declared 15m \(pra:rpo\), achievable 20m\. How: fail over to pilot-light in eu-central-1; .*Fix: pra:drStrategy: warm-standby, or a longer pra:rpo or pra:rto, or remove region-loss from pra:drScenarios\.$/,
    );
  });

  test("warm standby: a promoted replica, lagging at most what its alarm allows", () => {
    const r = recovery(warm, "region-loss");
    expect(secondsOf(r.rpo)).toBe(450);
    const steps = failoverOf(warm);
    expect(steps.find((step) => step.id === "wait-database")?.figure).toBe(RDS_REPLICA_PROMOTION);
    expect(steps.find((step) => step.id === "wait-name")?.figure).toBe(DNS_SWITCH);
    expect(secondsOf(r.rto)).toBe(REGION_OUTAGE_NOTICE.seconds + 15 * 60 + failoverSeconds(steps));
    expect(r.runbook.join("\n")).toContain(
      "Promote pra-prod-dr to a standalone, writable instance",
    );
    expect(warm.violations).toEqual([]);
  });

  test("a DR region missing a part the failover needs: region loss is not met, and the check names the part", () => {
    if (warm.facts.topology !== "target" || warm.config.topology !== "target")
      throw new Error("prod is a target stack");
    const design = {
      ...warm.facts.design,
      drParts: warm.facts.design.drParts.filter((part) => part !== "secret-replica"),
    };
    const facts = { ...warm.facts, design };
    const lacking = targetRecoveries(facts, warm.config);
    const region = lacking.find((r) => r.scenario === "region-loss");
    expect(region?.rto).toEqual({
      none:
        "the DR region lacks what the failover needs: secret-replica " +
        "(the database secret replicated to the DR region)",
    });
    expect(region?.fix).toContain("secret-replica");
    // The same for the loss of the database with its in-region backups, which fails over too.
    expect(lacking.find((r) => r.scenario === "both-volumes-loss")?.rto).toEqual(region?.rto);
  });

  test("every part a failover needs is one the stack's DR design declares, for each strategy", () => {
    for (const a of [pilot, warm]) {
      if (a.facts.topology !== "target") throw new Error("a target stack");
      expect(recovery(a, "region-loss").rto).toHaveProperty("seconds");
      expect(a.facts.design.drParts).toEqual(
        expect.arrayContaining(["app-identity", "service-name"]),
      );
    }
    if (warm.facts.topology !== "target" || pilot.facts.topology !== "target") return;
    expect(warm.facts.design.drParts).toEqual(
      expect.arrayContaining(["read-replica", "standby-workload"]),
    );
    expect(pilot.facts.design.drParts).not.toContain("standby-workload");
  });

  test("a compromised account: the locked DR vault's copies, hours old, are outside the declared scenarios", () => {
    const r = recovery(warm, "backups-deleted");
    expect(secondsOf(r.rpo)).toBe(3600 + 3600);
    expect(r.mechanism).toContain("compliance-mode lock");
    expect(warm.config.objectives.scenarios).not.toContain("backups-deleted");
  });

  test("operator error: point-in-time recovery to the second, if noticed within the retention", () => {
    expect(recovery(warm, "operator-error").rpo).toEqual({ seconds: 0 });
    const short = assess(
      configOf({ ...prodValues, drStrategy: "warm-standby", retention: "3d" }, "prod"),
    );
    expect(recovery(short, "operator-error").rpo).toEqual({
      none: "point-in-time recovery reaches back 3d, but an error may go unnoticed for 7d (pra:errorDetectionTime)",
    });
  });
});
