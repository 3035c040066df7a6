/**
 * A recording stand-in for kubectl, put first on the PATH of the runbook under test. It is a
 * POSIX shell script rather than a node one: a runbook makes a dozen calls, and node's startup
 * on each would dominate the test's time.
 *
 * Each call appends {"argv": [...], "stdin"?: "..."} as one JSON line to $FAKE_KUBECTL_LOG, then:
 * - sleeps (until killed) when the joined arguments contain $FAKE_KUBECTL_HANG: a wait that is
 *   never met, as the failure watch of a Job that completes;
 * - exits 1 when they contain $FAKE_KUBECTL_FAIL;
 * - for `logs`, prints a restore summary line naming $FAKE_RESTORED (default app-1700000000.db);
 * - otherwise exits 0.
 */
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = String.raw`#!/bin/sh
# JSON string contents: backslashes and quotes escaped, lines joined by \n (no tabs or other
# control characters occur in what the runbook passes).
json() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }'
}
line="$*"
entry='{"argv":['
sep=''
reads_stdin=no
for arg in "$@"; do
  # Forks are slow on some machines; most arguments need no escaping.
  case "$arg" in
    *[\\\"]*) entry="$entry$sep\"$(json "$arg")\"" ;;
    *) entry="$entry$sep\"$arg\"" ;;
  esac
  sep=','
  [ "$arg" = "-" ] && reads_stdin=yes
done
entry="$entry]"
if [ "$reads_stdin" = yes ]; then
  entry="$entry,\"stdin\":\"$(json "$(cat)")\""
fi
printf '%s}\n' "$entry" >> "$FAKE_KUBECTL_LOG"
if [ -n "$FAKE_KUBECTL_HANG" ]; then
  case "$line" in *"$FAKE_KUBECTL_HANG"*) exec sleep 20 ;; esac
fi
if [ -n "$FAKE_KUBECTL_FAIL" ]; then
  case "$line" in *"$FAKE_KUBECTL_FAIL"*) echo "error: fake kubectl told to fail" >&2; exit 1 ;; esac
fi
case "$line" in
  *" logs "*)
    printf '{"command":"restore","ok":true,"restored":"%s","timestamp":1700000000,' "$FAKE_RESTORED"
    printf '"last_event_id":42,"db":"/data/app.db","skipped":[],"moved_aside":[]}\n'
    ;;
esac
exit 0
`;

export interface KubectlCall {
  readonly argv: string[];
  readonly stdin?: string;
}

export interface FakeKubectl {
  /** Prepend to PATH. */
  readonly dir: string;
  /** The environment for one run, its calls logged to a file of its own. */
  env(
    name: string,
    settings?: { fail?: string; hang?: string; restored?: string },
  ): NodeJS.ProcessEnv;
  calls(name: string): KubectlCall[];
  remove(): void;
}

export function installFakeKubectl(): FakeKubectl {
  const dir = mkdtempSync(join(tmpdir(), "pra-fake-kubectl-"));
  const bin = join(dir, "kubectl");
  writeFileSync(bin, SCRIPT);
  chmodSync(bin, 0o755);
  const log = (name: string) => join(dir, `${name}.jsonl`);
  return {
    dir,
    env(name, settings = {}) {
      appendFileSync(log(name), "");
      return {
        ...process.env,
        PATH: `${dir}:${process.env.PATH ?? ""}`,
        FAKE_KUBECTL_LOG: log(name),
        // A Job that completes never meets the failure watch's condition.
        FAKE_KUBECTL_HANG: settings.hang ?? "--for=condition=failed",
        FAKE_KUBECTL_FAIL: settings.fail ?? "",
        FAKE_RESTORED: settings.restored ?? "app-1700000000.db",
      };
    },
    calls(name) {
      if (!existsSync(log(name))) return [];
      return readFileSync(log(name), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => toCall(JSON.parse(line)));
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A logged line, checked: the script writes {"argv": [...], "stdin"?: "..."}. */
function toCall(value: unknown): KubectlCall {
  if (typeof value !== "object" || value === null || !("argv" in value))
    throw new Error(`not a logged kubectl call: ${JSON.stringify(value)}`);
  const argv = Array.isArray(value.argv)
    ? value.argv.filter((arg): arg is string => typeof arg === "string")
    : [];
  const stdin = "stdin" in value && typeof value.stdin === "string" ? value.stdin : undefined;
  return stdin === undefined ? { argv } : { argv, stdin };
}
