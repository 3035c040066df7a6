/**
 * PRA_TEST_STOP_AT=<step>: at that named step the process prints `pra-test-stopped-at <step>` on
 * stderr and waits there, so that a fault-injection test kills it at exactly that point (see
 * test/apps/pra-app/faults.test.ts). Unset in every deployment; each step costs one lookup.
 */
export const STOPPED_AT_MARKER = "pra-test-stopped-at";

function asked(step: string): boolean {
  if (process.env.PRA_TEST_STOP_AT !== step) return false;
  process.stderr.write(`${STOPPED_AT_MARKER} ${step}\n`);
  return true;
}

/** Waits with the event loop running: signal handlers (SIGTERM) still run. */
export async function pauseHereIfAsked(step: string): Promise<void> {
  if (!asked(step)) return;
  for (;;) await new Promise((resolveWait) => setTimeout(resolveWait, 60_000));
}

/** Waits with the thread blocked, for synchronous code: only an uncatchable signal ends it. */
export function stopHereIfAsked(step: string): void {
  if (!asked(step)) return;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 60_000);
}
