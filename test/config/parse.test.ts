import { ConfigError, formatDuration, parseDuration, parseStackConfig } from "../../config";
import { DERIVED_CADENCES, longestGapSeconds, walkLongestGap } from "../../config/schedule";
import { configOf } from "../support/manifests";

function problemsOf(values: Record<string, unknown>, file = "Pulumi.test.yaml"): string[] {
  try {
    configOf(values);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error instanceof ConfigError ? error.message : "").split("\n").slice(1);
    for (const line of lines) expect(line.startsWith(`  ${file}: `)).toBe(true);
    return lines.map((line) => line.trim().slice(file.length + 2));
  }
  throw new Error("expected the settings to be refused");
}

describe("durations", () => {
  test.each([
    ["90s", 90],
    ["5m", 300],
    ["1h30m", 5400],
    ["7d", 604800],
  ])("%s is %d seconds and formats back", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
    expect(parseDuration(formatDuration(seconds))).toBe(seconds);
  });

  test.each(["", "5", "m5", "5 m", "1.5h", "-5m", "5min"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("lab defaults", () => {
  const config = configOf({ topology: "lab" });

  test("workshop names, 200Mi volumes, a pinned image", () => {
    expect(config.topology).toBe("lab");
    expect(config.namespace).toBe("pra");
    expect(config.image).toBe("pra-app:0.1.0");
    if (config.topology !== "lab") throw new Error("unreachable");
    expect(config.volumes.data).toEqual({ size: "200Mi" });
    expect(config.volumes.backup).toEqual({ size: "200Mi" });
  });

  test("objectives: RPO 2m, RTO 5m, retention 1h, for the workshop's failures", () => {
    expect(config.objectives).toEqual({
      rpoSeconds: 120,
      rtoSeconds: 300,
      retentionSeconds: 3600,
      errorDetectionSeconds: 1800,
      onCallResponseSeconds: 300,
      scenarios: ["pod-crash", "data-volume-loss", "backup-volume-loss", "operator-error"],
    });
  });

  test("the scenarios are a list, in YAML or as Pulumi's JSON text, of known failures only", () => {
    expect(configOf({ topology: "lab", drScenarios: ["pod-crash"] }).objectives.scenarios).toEqual([
      "pod-crash",
    ]);
    expect(
      configOf({ topology: "lab", drScenarios: '["pod-crash","zone-loss"]' }).objectives.scenarios,
    ).toEqual(["pod-crash", "zone-loss"]);
    expect(problemsOf({ topology: "lab", drScenarios: ["pod-crash", "meteor"] })[0]).toMatch(
      /^pra:drScenarios: expected a list of failures the objectives must hold for, from: pod-crash, node-loss, .*; found \["pod-crash","meteor"\]$/,
    );
    expect(problemsOf({ topology: "lab", drScenarios: [] })[0]).toMatch(
      /^pra:drScenarios: expected a list/,
    );
  });

  test("backups every minute, with deadlines that keep a restore point at most 90s old", () => {
    expect(config.backup.timing).toEqual({
      schedule: "* * * * *",
      intervalSeconds: 60,
      startingDeadlineSeconds: 10,
      activeDeadlineSeconds: 20,
      worstCaseAgeSeconds: 90,
    });
    expect(config.backup.keepWithinSeconds).toBe(3600);
    expect(config.backup.keepLast).toBe(3);
  });

  test("a restore test every 10 minutes fails when the newest point is older than the backups allow", () => {
    expect(config.restoreTest).toEqual({
      schedule: "*/10 * * * *",
      intervalSeconds: 600,
      maxAgeSeconds: 90,
    });
  });

  test("monitoring is off in the lab unless asked for", () => {
    expect(config.monitoring).toBe(false);
    expect(configOf({ topology: "lab", monitoring: true }).monitoring).toBe(true);
  });
});

describe("the longest gap of a schedule", () => {
  test.each(DERIVED_CADENCES.map((c) => [c.cron, c.seconds]))(
    "%s: the known gap is the one its runs really have",
    (cron, seconds) => {
      expect(longestGapSeconds(cron)).toBe(seconds);
      expect(walkLongestGap(cron)).toBe(seconds);
    },
  );

  test("other expressions are measured by their runs", () => {
    expect(longestGapSeconds("0 9,17 * * 1-5")).toBe(64 * 3600); // Friday 17:00 to Monday 09:00
  });
});

describe("the backup schedule is derived from the RPO", () => {
  test.each([
    ["90s", "* * * * *", 60],
    ["2m", "* * * * *", 60],
    ["5m", "*/3 * * * *", 180],
    ["15m", "*/10 * * * *", 600],
    ["1h", "*/30 * * * *", 1800],
    ["2h", "0 * * * *", 3600],
    ["2d", "0 0 * * *", 86400],
  ])("rpo %s runs %s", (rpo, schedule, interval) => {
    // A week of points every minute is 10081 copies: a backup volume that holds them.
    const { timing } = configOf({
      topology: "lab",
      rpo,
      retention: "7d",
      backupVolumeSize: "30Gi",
    }).backup;
    expect(timing.schedule).toBe(schedule);
    expect(timing.intervalSeconds).toBe(interval);
    expect(timing.worstCaseAgeSeconds).toBeLessThanOrEqual(parseDuration(rpo)!);
    expect(timing.startingDeadlineSeconds + timing.activeDeadlineSeconds).toBeLessThanOrEqual(
      interval,
    );
  });

  test("an RPO under what a once-a-minute CronJob can keep is refused, with the reason", () => {
    expect(problemsOf({ topology: "lab", rpo: "60s" })).toEqual([
      "pra:rpo: expected at least 1m30s: a CronJob runs at most once a minute, a run may start " +
        '10s late and take 20s, so a restore point can be 1m30s old; found "60s"',
    ]);
    expect(problemsOf({ topology: "lab", rpo: "30s" })[0]).toMatch(
      /^pra:rpo: expected at least 1m30s/,
    );
  });

  test("an explicit schedule is used when it keeps the RPO", () => {
    const backup = configOf({ topology: "lab", rpo: "1h", backupSchedule: "*/15 * * * *" }).backup;
    expect(backup.scheduleIsExplicit).toBe(true);
    expect(backup.timing.schedule).toBe("*/15 * * * *");
    expect(backup.timing.intervalSeconds).toBe(900);
  });

  test("an explicit schedule is measured by its longest gap, not its usual one", () => {
    // Every 10 minutes from 08:00 to 17:50, then nothing until 08:00: a 14h10m gap overnight.
    expect(problemsOf({ topology: "lab", rpo: "15m", backupSchedule: "*/10 8-17 * * *" })).toEqual([
      "pra:backupSchedule: expected a schedule that keeps restore points within pra:rpo (15m), " +
        `such as '*/10 * * * *'; found "*/10 8-17 * * *", which runs up to 14h10m apart: ` +
        "with its deadlines a restore point can be 15h20m old",
    ]);
  });

  test("a schedule that is not a five-field cron expression is refused", () => {
    expect(problemsOf({ topology: "lab", backupSchedule: "every minute" })[0]).toMatch(
      /^pra:backupSchedule: expected a five-field cron expression .*; found "every minute" \(a cron expression has 5 fields/,
    );
    expect(problemsOf({ topology: "lab", backupSchedule: "61 * * * *" })[0]).toMatch(
      /found "61 \* \* \* \*" \(.*59/,
    );
  });
});

describe("the target's exports are timed by the database's size, not the RPO", () => {
  const target = { topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" };

  test.each([
    // GiB, schedule, starting deadline, active deadline: two passes at 50 MiB/s plus 2m to start.
    [20, "*/20 * * * *", 200, 120 + 2 * 410],
    [50, "0 * * * *", 600, 120 + 2 * 1024],
    [500, "0 */6 * * *", 600, 120 + 2 * 10240],
  ])(
    "%s GiB runs %s, each run given its dump and check, never overlapping",
    (gb, cron, start, run) => {
      const { backup, restoreTest } = configOf({
        ...target,
        rpo: "15m",
        dbAllocatedStorage: gb,
        dbMaxAllocatedStorage: Math.max(200, gb),
      });
      expect(backup.timing).toMatchObject({
        schedule: cron,
        startingDeadlineSeconds: start,
        activeDeadlineSeconds: run,
      });
      expect(start + run).toBeLessThanOrEqual(backup.timing.intervalSeconds);
      // RDS holds the 15m RPO: the exports' alerts and the restore test judge them by their own timing.
      expect(backup.holdsRpo).toBe(false);
      expect(backup.overdueAfterSeconds).toBe(backup.timing.worstCaseAgeSeconds);
      expect(restoreTest.maxAgeSeconds).toBe(backup.timing.worstCaseAgeSeconds);
    },
  );

  test("the lab's backups hold its RPO: overdue past it", () => {
    const { backup } = configOf({ topology: "lab", rpo: "15m" });
    expect(backup).toMatchObject({ holdsRpo: true, overdueAfterSeconds: 900 });
  });

  test("an explicit schedule too tight for the dump is refused, with the arithmetic", () => {
    expect(
      problemsOf({ ...target, dbAllocatedStorage: 50, backupSchedule: "*/10 * * * *" }),
    ).toEqual([
      "pra:backupSchedule: expected runs at least 37m48s apart, such as '0 * * * *': an export of " +
        "pra:dbAllocatedStorage (50 GiB) may take 36m8s (dumped and checked at 50 MiB/s, " +
        'config/target-design.ts), and may start 1m40s late; found "*/10 * * * *", which runs 10m apart',
    ]);
    expect(configOf({ ...target, backupSchedule: "0 */2 * * *" }).backup.timing).toMatchObject({
      intervalSeconds: 7200,
      activeDeadlineSeconds: 2168,
    });
  });

  test("a database whose export cannot finish within a day is refused", () => {
    expect(
      problemsOf({ ...target, dbAllocatedStorage: 4096, dbMaxAllocatedStorage: 4096 }),
    ).toEqual([
      "pra:dbAllocatedStorage: expected a database whose export finishes within a day: an export " +
        "of pra:dbAllocatedStorage (4096 GiB) may take 1d22h38m14s (dumped and checked at 50 MiB/s, " +
        "config/target-design.ts), more than a daily schedule leaves it; found 4096",
    ]);
  });
});

describe("bad settings are refused, each naming the file, the key, what was expected and what was found", () => {
  test.each<[string, Record<string, unknown>, string]>([
    ["topology", { topology: "lob" }, 'pra:topology: expected lab or target; found "lob"'],
    [
      "missing topology",
      {},
      "pra:topology: expected lab or target; found nothing (the key is missing)",
    ],
    [
      "namespace",
      { topology: "lab", namespace: "PRA_ns" },
      `pra:namespace: expected a DNS label (lowercase letters, digits, '-'); found "PRA_ns"`,
    ],
    [
      "latest image",
      { topology: "lab", image: "pra-app:latest" },
      "pra:image: expected an image reference with a tag other than 'latest' or a sha256 digest, " +
        'such as pra-app:0.1.0; found "pra-app:latest"',
    ],
    ["untagged image", { topology: "lab", image: "pra-app" }, `found "pra-app"`],
    [
      "rpo",
      { topology: "lab", rpo: "soon" },
      'pra:rpo: expected a duration such as 90s, 5m, 1h30m or 7d (the recovery point objective); found "soon"',
    ],
    [
      "rto",
      { topology: "lab", rto: 5 },
      "pra:rto: expected a duration such as 90s, 5m, 1h30m or 7d (the recovery time objective); found 5",
    ],
    [
      "volume size",
      { topology: "lab", dataVolumeSize: "200MB" },
      'pra:dataVolumeSize: expected a Kubernetes storage quantity of at least 1Mi, such as 200Mi or 5Gi; found "200MB"',
    ],
    [
      "keep last",
      { topology: "lab", backupKeepLast: 0 },
      "pra:backupKeepLast: expected a whole number from 1 to 10000 (restore points kept whatever their age); found 0",
    ],
    [
      "retention shorter than the interval",
      { topology: "lab", rpo: "15m", retention: "5m" },
      'pra:retention: expected at least the backup interval (10m); found "5m"',
    ],
    [
      "restore test too often",
      { topology: "lab", restoreTestEvery: "30s" },
      'pra:restoreTestEvery: expected at least 1m (a CronJob runs at most once a minute); found "30s"',
    ],
    [
      "monitoring",
      { topology: "lab", monitoring: "yes" },
      'pra:monitoring: expected true or false; found "yes"',
    ],
    ["secret value", { topology: "lab", image: { secure: "AAA" } }, "found an encrypted secret"],
  ])("%s", (_name, values, message) => {
    const problems = problemsOf(values);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  test("a typo is an error with a suggestion, never a silent default", () => {
    expect(problemsOf({ topology: "lab", bakupKeepLast: 5 })).toEqual([
      "pra:bakupKeepLast: unknown setting; did you mean pra:backupKeepLast?",
    ]);
    expect(problemsOf({ topology: "lab", colour: "blue" })).toEqual([
      "pra:colour: unknown setting",
    ]);
  });

  test("a key of the other topology says where it belongs", () => {
    expect(problemsOf({ topology: "lab", drRegion: "eu-central-1" })).toEqual([
      "pra:drRegion: not a setting of topology lab (it applies to topology target)",
    ]);
  });

  test("every problem is reported at once, the checks between settings included", () => {
    const problems = problemsOf({
      topology: "lab",
      rpo: "60s",
      image: "x:latest",
      bakupKeepLast: 3,
      dataVolumeSize: "big",
    });
    expect(problems.map((p) => p.split(":")[1])).toEqual(
      expect.arrayContaining(["image", "dataVolumeSize", "bakupKeepLast", "rpo"]),
    );
    expect(problems).toHaveLength(4);
  });

  test("the message names the stack file", () => {
    expect(() =>
      parseStackConfig({
        stack: "lab",
        file: "Pulumi.lab.yaml",
        values: { "pra:topology": "lab", "pra:rpo": "1s" },
      }),
    ).toThrow(
      /^Pulumi\.lab\.yaml: 1 invalid setting:\n {2}Pulumi\.lab\.yaml: pra:rpo: expected at least 1m30s/,
    );
  });
});

describe("volumes must hold the database the stack declares", () => {
  test.each(["0", "1", "1Ki", "0.5Mi"])("a size of %j is refused", (size) => {
    for (const key of ["dataVolumeSize", "backupVolumeSize", "databaseSize"]) {
      expect(problemsOf({ topology: "lab", [key]: size })).toEqual([
        expect.stringMatching(
          new RegExp(
            `^pra:${key}: expected a Kubernetes storage quantity of at least 1Mi, such as 200Mi ` +
              `or 5Gi.*; found "${size.replace(".", "\\.")}"$`,
          ),
        ),
      ]);
    }
  });

  test("the lab's defaults fit: 61 copies of a 3Mi database (60 minutes of points, one in flight) in 200Mi", () => {
    const config = configOf({ topology: "lab" });
    if (config.topology !== "lab") throw new Error("unreachable");
    expect(config.databaseSize).toBe("3Mi");
    expect(configOf({ topology: "lab", backupVolumeSize: "183Mi" }).topology).toBe("lab");
    expect(problemsOf({ topology: "lab", backupVolumeSize: "182Mi" })).toEqual([
      "pra:backupVolumeSize: expected at least 183Mi: 61 copies of pra:databaseSize (3Mi), 60 kept " +
        "by pra:retention (the most runs of '* * * * *' within 1h) and the one a backup writes " +
        'before deleting expired points; found "182Mi"',
    ]);
  });

  test("a backup volume of 1Ki cannot hold a retention's worth of points", () => {
    expect(problemsOf({ topology: "lab", databaseSize: "1Mi", backupVolumeSize: "1Ki" })).toEqual([
      expect.stringMatching(/^pra:backupVolumeSize: expected a Kubernetes storage quantity/),
    ]);
    expect(problemsOf({ topology: "lab", databaseSize: "1Mi", backupVolumeSize: "2Mi" })).toEqual([
      expect.stringMatching(/^pra:backupVolumeSize: expected at least 61Mi: 61 copies/),
    ]);
  });

  test("keepLast counts when it keeps more than retention", () => {
    expect(
      problemsOf({ topology: "lab", rpo: "10m", backupKeepLast: 100, backupVolumeSize: "300Mi" }),
    ).toEqual([
      "pra:backupVolumeSize: expected at least 303Mi: 101 copies of pra:databaseSize (3Mi), 100 " +
        'kept by pra:backupKeepLast and the one a backup writes before deleting expired points; found "300Mi"',
    ]);
  });

  test("an explicit schedule is counted by its runs, not its shortest gap", () => {
    // Twice an hour a minute apart: 48 runs a day, not 1440.
    const values = { topology: "lab", backupSchedule: "0,1 * * * *", rpo: "2h", retention: "1d" };
    expect(configOf({ ...values, backupVolumeSize: "147Mi" }).topology).toBe("lab");
    expect(problemsOf({ ...values, backupVolumeSize: "146Mi" })[0]).toMatch(
      /^pra:backupVolumeSize: expected at least 147Mi: 49 copies/,
    );
  });

  test("the data volume holds the database and a restore's checked copy", () => {
    expect(
      problemsOf({ topology: "lab", databaseSize: "150Mi", backupVolumeSize: "10Gi" }),
    ).toEqual([
      "pra:dataVolumeSize: expected at least 300Mi: twice pra:databaseSize (150Mi), the database " +
        'and the copy a restore checks beside it; found "200Mi"',
    ]);
  });
});

describe("values as Pulumi passes them (every value a string)", () => {
  test("numbers and booleans spelled as strings are accepted", () => {
    const config = configOf({ topology: "lab", backupKeepLast: "7", monitoring: "true" });
    expect(config.backup.keepLast).toBe(7);
    expect(config.monitoring).toBe(true);
  });

  test("but only their exact spellings", () => {
    expect(problemsOf({ topology: "lab", monitoring: "True" })).toEqual([
      'pra:monitoring: expected true or false; found "True"',
    ]);
    expect(problemsOf({ topology: "lab", backupKeepLast: "7.5" })[0]).toMatch(
      /^pra:backupKeepLast: expected a whole number/,
    );
  });

  test("keys outside the pra: namespace are not pra settings", () => {
    expect(configOf({ topology: "lab", "kubernetes:context": "k3d-pra" }).topology).toBe("lab");
  });
});

describe("the EKS API's reach (pra:apiAccessCidrs)", () => {
  const target = { topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" };

  test("unset, the API is private: no range may reach it from the internet", () => {
    const config = configOf(target);
    if (config.topology !== "target") throw new Error("unreachable");
    expect(config.cluster.apiAccessCidrs).toEqual([]);
  });

  test("named ranges, in YAML or as Pulumi's JSON text, open it to them only", () => {
    const config = configOf({ ...target, apiAccessCidrs: '["203.0.113.0/24","198.51.100.7/32"]' });
    if (config.topology !== "target") throw new Error("unreachable");
    expect(config.cluster.apiAccessCidrs).toEqual(["203.0.113.0/24", "198.51.100.7/32"]);
  });

  test.each(["0.0.0.0/0", "10.0.0.0/4", "300.1.1.1/32", "2001:db8::/32"])(
    "%s is refused",
    (cidr) => {
      expect(problemsOf({ ...target, apiAccessCidrs: [cidr] })[0]).toMatch(
        /^pra:apiAccessCidrs: expected a list of IPv4 CIDR ranges/,
      );
    },
  );
});
