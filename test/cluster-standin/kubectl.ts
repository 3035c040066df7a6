/**
 * The kubectl verbs the runbooks use, answered by the stand-in cluster (cluster.ts), and the
 * HTTP endpoint that the `kubectl` executable put on a test's PATH (test/support/standin-shim.js) calls. Output
 * and exit codes follow kubectl's where a runbook reads them: a missing object is an error
 * (NotFound), except where kubectl itself accepts it (--ignore-not-found, wait --for=delete).
 */
import { execFile } from "node:child_process";
import { isAbsolute, join } from "node:path";
import { isKind, type Manifest, manifestsFromYaml } from "../../charts/manifest";
import { Cluster, KubectlError, notFound, type Outcome, type Pod, replicasOf } from "./cluster";
import { serveShim } from "../support/standin-request";

const KINDS: Readonly<Record<string, string>> = {
  deployment: "deployment",
  deployments: "deployment",
  deploy: "deployment",
  cronjob: "cronjob",
  cronjobs: "cronjob",
  cj: "cronjob",
  job: "job",
  jobs: "job",
  pod: "pod",
  pods: "pod",
  po: "pod",
  pvc: "persistentvolumeclaim",
  persistentvolumeclaim: "persistentvolumeclaim",
  persistentvolumeclaims: "persistentvolumeclaim",
  namespace: "namespace",
  ns: "namespace",
  configmap: "configmap",
  cm: "configmap",
  secret: "secret",
  ingress: "ingress",
  ing: "ingress",
  externalsecret: "externalsecret",
  es: "externalsecret",
};

/** Kinds the stand-in stores without running them, by their kubectl name. */
const INERT_KINDS: Readonly<Record<string, string>> = {
  configmap: "ConfigMap",
  secret: "Secret",
  ingress: "Ingress",
  externalsecret: "ExternalSecret",
};

const kindOf = (word: string): string => {
  const kind = KINDS[word.toLowerCase()];
  if (kind === undefined) throw new KubectlError(`error: the stand-in does not know "${word}"`);
  return kind;
};

/** Parsed arguments: positionals, and flags by name (`--a=b`, `--a b`, `-n x`). */
interface Args {
  readonly positional: string[];
  readonly flags: Map<string, string>;
  /** What follows `--` (exec's command). */
  readonly rest: string[];
}

const VALUED = new Set(["-n", "--namespace", "--context", "-f", "-k", "-l", "-o", "-p", "--type"]);
const VALUED_LONG = new Set(["--replicas", "--timeout", "--for", "--from", "--cascade"]);

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return { positional, flags, rest: argv.slice(i + 1) };
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else if (VALUED.has(arg) || VALUED_LONG.has(arg)) flags.set(arg, argv[++i] ?? "");
    else if (arg.startsWith("-") && arg !== "-") flags.set(arg, "true");
    else positional.push(arg);
  }
  return { positional, flags, rest: [] };
}

function seconds(timeout: string | undefined, fallback: number): number {
  if (timeout === undefined) return fallback;
  const match = /^(\d+)(s|m|h)?$/.exec(timeout);
  if (!match) throw new KubectlError(`error: invalid --timeout ${timeout}`);
  return Number(match[1]) * (match[2] === "m" ? 60 : match[2] === "h" ? 3600 : 1);
}

/** `kind/name` or `kind name`, from the positionals after the verb. */
function target(words: readonly string[]): { kind: string; name?: string } {
  const [first, second] = words;
  if (first === undefined) throw new KubectlError("error: you must specify a resource");
  const slash = first.indexOf("/");
  if (slash > 0) return { kind: kindOf(first.slice(0, slash)), name: first.slice(slash + 1) };
  return second === undefined ? { kind: kindOf(first) } : { kind: kindOf(first), name: second };
}

function selector(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  return Object.fromEntries(
    text.split(",").map((pair) => {
      const [k, v] = pair.split("=");
      return [k ?? "", v ?? ""];
    }),
  );
}

/** The subset of kubectl's JSONPath the runbooks use: `{.a.b}` fields and literal text. */
function jsonPath(template: string, value: unknown): string {
  return template.replace(/\{\.([^}]*)\}/g, (_match, path: string) => {
    let current: unknown = value;
    // Fields and list indexes: `.status.loadBalancer.ingress[0].hostname`.
    for (const part of path.split(/\.|(?=\[)/)) {
      const index = /^\[(\d+)\]$/.exec(part)?.[1];
      const field = index ?? part;
      current =
        typeof current === "object" && current !== null ? Reflect.get(current, field) : undefined;
    }
    if (current === undefined || current === null) return "";
    if (typeof current === "string") return current;
    return JSON.stringify(current);
  });
}

export interface KubectlOptions {
  /** The folder relative paths are read from (the runbook's working directory). */
  readonly cwd: string;
  readonly context: string;
}

/** `kubectl apply -k <dir>` as a user runs it; throws with kubectl's message when it is refused. */
export async function applyKustomization(
  cluster: Cluster,
  dir: string,
  options: KubectlOptions,
): Promise<void> {
  const applied = await kubectl(cluster, ["apply", "-k", dir], undefined, options);
  if (applied.code !== 0) throw new Error(applied.stderr);
}

/** Runs one kubectl command against `cluster`. */
export async function kubectl(
  cluster: Cluster,
  argv: readonly string[],
  stdin: string | undefined,
  options: KubectlOptions,
  signal?: AbortSignal,
): Promise<Outcome> {
  try {
    return await dispatch(cluster, parseArgs(argv), stdin, options, signal, argv.join(" "));
  } catch (error) {
    if (error instanceof KubectlError) return { code: 1, stdout: "", stderr: `${error.message}\n` };
    throw error;
  }
}

async function dispatch(
  cluster: Cluster,
  args: Args,
  stdin: string | undefined,
  options: KubectlOptions,
  signal: AbortSignal | undefined,
  line: string,
): Promise<Outcome> {
  const ok = (stdout: string): Outcome => ({ code: 0, stdout, stderr: "" });
  const context = args.flags.get("--context");
  if (context !== undefined && context !== options.context)
    throw new KubectlError(`error: context "${context}" does not exist`);
  const namespace = args.flags.get("-n") ?? args.flags.get("--namespace") ?? "default";
  const [verb, ...words] = args.positional;
  const timeout = (fallback: number) => seconds(args.flags.get("--timeout"), fallback);
  const locked = <T>(work: () => T) => cluster.serialized(() => Promise.resolve(work()));

  switch (verb) {
    case "config":
      if (words[0] === "current-context") return ok(`${options.context}\n`);
      break;
    case "apply": {
      const file = args.flags.get("-f");
      const folder = args.flags.get("-k");
      const path = (p: string) => (isAbsolute(p) ? p : join(options.cwd, p));
      const manifests =
        file === "-"
          ? manifestsFromYaml(stdin ?? "", "stdin")
          : file !== undefined
            ? Cluster.read(path(file), false)
            : folder !== undefined
              ? Cluster.read(path(folder), true)
              : undefined;
      if (!manifests) throw new KubectlError("error: must specify one of -f and -k");
      const lines = await locked(() => cluster.apply(manifests, namespace));
      return ok(lines.map((l) => `${l}\n`).join(""));
    }
    case "scale": {
      const { kind, name } = target(words);
      const replicas = Number(args.flags.get("--replicas"));
      if (kind !== "deployment" || name === undefined || !Number.isInteger(replicas))
        throw new KubectlError(`error: the stand-in scales deployment/NAME --replicas=N`);
      await locked(() => cluster.patch("deployment", namespace, name, { spec: { replicas } }));
      return ok(`deployment.apps/${name} scaled\n`);
    }
    case "patch": {
      const { kind, name } = target(words);
      if (name === undefined || args.flags.get("--type") !== "merge")
        throw new KubectlError("error: the stand-in patches KIND/NAME --type=merge -p JSON");
      const patch: unknown = JSON.parse(args.flags.get("-p") ?? "null");
      return ok(`${await locked(() => cluster.patch(kind, namespace, name, patch))}\n`);
    }
    case "delete": {
      const { kind, name } = target(words);
      if (name === undefined)
        throw new KubectlError("error: the stand-in deletes one named object");
      const found = await locked(() => cluster.delete(kind, namespace, name));
      if (!found) {
        if (args.flags.has("--ignore-not-found")) return ok("");
        throw notFound(kind, name);
      }
      // kubectl waits for the object to be gone (finalizers included) unless --wait=false.
      if (args.flags.get("--wait") !== "false") {
        const gone = await cluster.until(
          () => !cluster.exists(kind, namespace, name),
          timeout(3600 * 24),
          line,
          signal,
        );
        if (!gone)
          return { code: 1, stdout: "", stderr: "error: timed out waiting for the condition\n" };
      }
      return ok(`${kind} "${name}" deleted\n`);
    }
    case "wait":
      return wait(cluster, args, words, namespace, timeout(30), line, signal);
    case "rollout": {
      const { kind, name } = target(words.slice(1));
      if (words[0] === "restart" && kind === "deployment" && name !== undefined) {
        // New pods, which read their environment again; the controller replaces the deleted ones.
        const pods = await locked(() => {
          if (!cluster.exists("deployment", namespace, name))
            throw notFound("deployments.apps", name);
          const owned = ownedBy(cluster, namespace, name);
          for (const pod of owned) cluster.delete("pod", namespace, pod.name);
          return owned.length;
        });
        return ok(`deployment.apps/${name} restarted (${pods} pods replaced)\n`);
      }
      if (words[0] !== "status" || kind !== "deployment" || name === undefined)
        throw new KubectlError("error: the stand-in knows rollout status deployment/NAME");
      if (!(await locked(() => cluster.exists("deployment", namespace, name))))
        throw notFound("deployments.apps", name);
      const ready = await cluster.until(
        () => {
          const deployment = cluster.deployments.get(`${namespace}/${name}`);
          const replicas = deployment ? replicasOf(deployment) : 1;
          const pods = ownedBy(cluster, namespace, name);
          return pods.length === replicas && pods.every((pod) => pod.ready);
        },
        timeout(3600 * 24),
        line,
        signal,
      );
      if (!ready)
        return { code: 1, stdout: "", stderr: "error: timed out waiting for the condition\n" };
      return ok(`deployment "${name}" successfully rolled out\n`);
    }
    case "logs": {
      const { kind, name } = target(words);
      const pod = await locked(() => podFor(cluster, kind, namespace, name ?? ""));
      return ok(pod.logs);
    }
    case "get": {
      const { kind, name } = target(words);
      if (name === undefined) {
        // A list, as `kubectl get jobs -o json` gives it (npm run status reads a CronJob's Jobs).
        if (kind !== "job") throw new KubectlError("error: the stand-in lists jobs only");
        const items = await locked(() =>
          [...cluster.jobs.values()]
            .filter((job) => (job.manifest.metadata.namespace ?? "default") === namespace)
            .map((job) => describe(cluster, kind, namespace, job.manifest.metadata.name)),
        );
        return ok(`${JSON.stringify({ apiVersion: "v1", kind: "List", items })}\n`);
      }
      const value = await locked(() => describe(cluster, kind, namespace, name));
      if (value === undefined) {
        if (args.flags.has("--ignore-not-found")) return ok("");
        throw notFound(kind, name);
      }
      const output = args.flags.get("-o");
      if (output?.startsWith("jsonpath=")) return ok(jsonPath(output.slice(9), value));
      if (output === "name") return ok(`${kind}/${name}\n`);
      return ok(`${JSON.stringify(value)}\n`);
    }
    case "describe": {
      const { kind, name } = target(words);
      const value = await locked(() => describe(cluster, kind, namespace, name ?? ""));
      return ok(`${JSON.stringify(value ?? null, null, 2)}\n`);
    }
    case "create": {
      const [what, name] = words;
      const from = args.flags.get("--from") ?? "";
      if (what !== "job" || name === undefined || !from.startsWith("cronjob/"))
        throw new KubectlError("error: the stand-in creates job NAME --from=cronjob/NAME");
      await locked(() => cluster.createJobFrom(namespace, from.slice(8), name));
      return ok(`job.batch/${name} created\n`);
    }
    case "annotate": {
      // External Secrets re-reads its entry when an ExternalSecret's annotations change.
      const { kind, name } = target(words);
      if (kind !== "externalsecret" || name === undefined)
        throw new KubectlError("error: the stand-in annotates externalsecret/NAME only");
      await locked(() => cluster.syncExternalSecret(namespace, name));
      return ok(`externalsecret.external-secrets.io/${name} annotated\n`);
    }
    case "exec": {
      const { kind, name } = target(words);
      if (kind !== "deployment" || name === undefined)
        throw new KubectlError("error: the stand-in execs in deployment/NAME");
      return cluster.serialized(() => cluster.exec(namespace, name, args.rest));
    }
  }
  throw new KubectlError(`error: the stand-in does not implement: kubectl ${line}`);
}

async function wait(
  cluster: Cluster,
  args: Args,
  words: readonly string[],
  namespace: string,
  timeoutSeconds: number,
  line: string,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const condition = args.flags.get("--for") ?? "";
  const { kind, name } = target(words);
  const labels = selector(args.flags.get("-l"));
  if (condition === "delete") {
    if (labels !== undefined) {
      const any = await cluster.serialized(() =>
        Promise.resolve(cluster.podsMatching(namespace, labels).length > 0),
      );
      if (!any) return { code: 1, stdout: "", stderr: "error: no matching resources found\n" };
      const gone = await cluster.until(
        () => cluster.podsMatching(namespace, labels).length === 0,
        timeoutSeconds,
        line,
        signal,
      );
      return gone
        ? { code: 0, stdout: "", stderr: "" }
        : { code: 1, stdout: "", stderr: "error: timed out waiting for the condition\n" };
    }
    if (name === undefined) throw new KubectlError("error: wait needs a name or -l");
    const gone = await cluster.until(
      () => !cluster.exists(kind, namespace, name),
      timeoutSeconds,
      line,
      signal,
    );
    return gone
      ? { code: 0, stdout: `${kind}/${name} condition met\n`, stderr: "" }
      : { code: 1, stdout: "", stderr: "error: timed out waiting for the condition\n" };
  }
  if (kind === "externalsecret" && /^condition=Ready$/i.test(condition) && name !== undefined) {
    // Ready once External Secrets has written its target Secret.
    const external = cluster.inertObject("ExternalSecret", namespace, name);
    if (!external) throw notFound("externalsecrets.external-secrets.io", name);
    const targetName = readyTarget(external) ?? name;
    const met = await cluster.until(
      () => cluster.inertObject("Secret", namespace, targetName) !== undefined,
      timeoutSeconds,
      line,
      signal,
    );
    return met
      ? {
          code: 0,
          stdout: `externalsecret.external-secrets.io/${name} condition met\n`,
          stderr: "",
        }
      : { code: 1, stdout: "", stderr: "error: timed out waiting for the condition\n" };
  }
  const match = /^condition=(Complete|Failed)$/i.exec(condition);
  if (!match || kind !== "job" || name === undefined)
    throw new KubectlError(
      `error: the stand-in waits for delete or job conditions, not ${condition}`,
    );
  const wanted = match[1]?.toLowerCase() === "complete" ? "Complete" : "Failed";
  const exists = await cluster.serialized(() =>
    Promise.resolve(cluster.exists("job", namespace, name)),
  );
  if (!exists) throw notFound("jobs.batch", name);
  const met = await cluster.until(
    () => cluster.jobs.get(`${namespace}/${name}`)?.condition === wanted,
    timeoutSeconds,
    line,
    signal,
  );
  return met
    ? { code: 0, stdout: `job.batch/${name} condition met\n`, stderr: "" }
    : {
        code: 1,
        stdout: "",
        stderr: `error: timed out waiting for the condition on jobs/${name}\n`,
      };
}

function ownedBy(cluster: Cluster, namespace: string, deployment: string): Pod[] {
  return [...cluster.pods.values()].filter(
    (pod) =>
      pod.namespace === namespace &&
      pod.owner.kind === "Deployment" &&
      pod.owner.name === deployment,
  );
}

function podFor(cluster: Cluster, kind: string, namespace: string, name: string): Pod {
  if (kind === "pod") {
    const pod = cluster.pods.get(`${namespace}/${name}`);
    if (!pod) throw notFound("pods", name);
    return pod;
  }
  if (kind === "job") {
    const job = cluster.jobs.get(`${namespace}/${name}`);
    if (!job) throw notFound("jobs.batch", name);
    const last = job.pods.at(-1);
    const pod = last === undefined ? undefined : cluster.pods.get(`${namespace}/${last}`);
    if (!pod) throw new KubectlError(`error: job ${name} has no pod`);
    return pod;
  }
  if (kind === "deployment") {
    const pod = ownedBy(cluster, namespace, name)[0];
    if (!pod) throw new KubectlError(`error: deployment ${name} has no pod`);
    return pod;
  }
  throw new KubectlError(`error: the stand-in reads logs of pods, jobs and deployments`);
}

/** The Secret an ExternalSecret writes. */
function readyTarget(external: Manifest): string | undefined {
  return isKind(external, "ExternalSecret") ? external.spec?.target.name : undefined;
}

/** What `get -o json` shows of an object: the fields the runbooks read. */
function describe(cluster: Cluster, kind: string, namespace: string, name: string): unknown {
  const id = `${namespace}/${name}`;
  const inertKind = INERT_KINDS[kind];
  if (inertKind !== undefined) {
    const object = cluster.inertObject(inertKind, namespace, name);
    if (!object || inertKind !== "Ingress") return object;
    // The Load Balancer Controller's part: an internal ALB, named after the Ingress.
    const hostname = `internal-k8s-${namespace}-${name}-${cluster.name}.elb.local`;
    return { ...object, status: { loadBalancer: { ingress: [{ hostname }] } } };
  }
  if (kind === "persistentvolumeclaim") {
    const claim = cluster.claims.get(id);
    if (!claim) return undefined;
    const deleting = claim.deletingSince;
    return {
      ...claim.manifest,
      metadata: {
        ...claim.manifest.metadata,
        ...(deleting === undefined ? {} : { deletionTimestamp: new Date(deleting).toISOString() }),
      },
      status: { phase: "Bound" },
    };
  }
  if (kind === "job") {
    const job = cluster.jobs.get(id);
    if (!job) return undefined;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      ...job.manifest,
      status: {
        condition: job.condition,
        reason: job.reason,
        // The API server's fields (npm run status reads these).
        startTime: iso(job.createdAt),
        ...(job.condition === "Complete" && job.finishedAt !== undefined
          ? { completionTime: iso(job.finishedAt) }
          : {}),
        conditions:
          job.condition === undefined
            ? []
            : [{ type: job.condition, status: "True", reason: job.reason }],
      },
    };
  }
  if (kind === "pod") {
    const pod = cluster.pods.get(id);
    if (!pod) return undefined;
    return { metadata: { name, namespace }, status: { phase: pod.phase, reason: pod.reason } };
  }
  if (kind === "deployment") {
    const deployment = cluster.deployments.get(id);
    if (!deployment) return undefined;
    const pods = [...cluster.pods.values()].filter(
      (pod) =>
        pod.namespace === namespace &&
        pod.owner.kind === "Deployment" &&
        pod.owner.name === name &&
        pod.deletingSince === undefined,
    );
    const readyReplicas = pods.filter((pod) => pod.ready).length;
    // A reader (npm run status) must not take the missing field for zero: see replicasOf.
    const spec = { ...deployment.spec, replicas: replicasOf(deployment) };
    return { ...deployment, spec, status: { replicas: pods.length, readyReplicas } };
  }
  if (kind === "cronjob") return cluster.cronJobs.get(id);
  return undefined;
}

export interface StandinEndpoint {
  /** Prepend to PATH: holds the `kubectl` executable. */
  readonly binDir: string;
  /** The environment a runbook runs in: PATH with the stand-in's kubectl, its URL. */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Every kubectl call, in order. */
  readonly calls: string[][];
  close(): Promise<void>;
}

/** Serves `cluster` to the `kubectl` executable (test/support/standin-shim.js) over loopback HTTP. */
export async function serveKubectl(
  cluster: Cluster,
  options: KubectlOptions,
): Promise<StandinEndpoint> {
  const calls: string[][] = [];
  const command = await serveShim("kubectl", 1, ({ argv, stdin }, aborted) => {
    calls.push(argv);
    return kubectl(cluster, argv, stdin, options, aborted);
  });
  return { binDir: command.binDir, calls, env: command.env, close: command.close };
}

/**
 * `npm run status -- --stack <stack> --context <context> --json` as an operator runs it: its own
 * process, kubectl found on PATH (this endpoint's), the exit code and both streams.
 */
export function runStatusScript(
  endpoint: StandinEndpoint,
  stack: string,
  context: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ["--require", "tsx/cjs", "scripts/status.ts", "--stack", stack];
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [...args, "--context", context, "--json"],
      { cwd: join(__dirname, "..", ".."), env: endpoint.env() },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}
