/**
 * SIGTERM (Kubernetes' activeDeadlineSeconds, a pod deletion) and SIGINT during a command: the
 * command's registered cleanups run (a backup removes its partial copy, a restore its staged copy),
 * then the process exits with EXIT_INTERRUPTED after one JSON line saying so. `serve` has its own
 * graceful shutdown instead.
 */
type Cleanup = () => void;

const cleanups = new Set<Cleanup>();

/** 128 + SIGTERM's number, as a shell reports a process ended by SIGTERM. */
export const EXIT_INTERRUPTED = 143;

/** Registers work to undo if the command is interrupted; the returned function unregisters it. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

let installed: ((signal: NodeJS.Signals) => void) | undefined;

/** Makes SIGTERM and SIGINT end the running command cleanly; `report` writes its last words. */
export function handleInterrupts(report: (signal: NodeJS.Signals) => void): void {
  releaseInterrupts();
  const stop = (signal: NodeJS.Signals) => {
    for (const cleanup of [...cleanups].reverse()) {
      try {
        cleanup();
      } catch {
        // Best effort: the next run reclaims what is left (backup/run-files.ts).
      }
    }
    report(signal);
    process.exit(EXIT_INTERRUPTED);
  };
  installed = stop;
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** Once the command is over (the CLI runs in-process in tests): signals are no longer its business. */
export function releaseInterrupts(): void {
  if (!installed) return;
  process.off("SIGTERM", installed);
  process.off("SIGINT", installed);
  installed = undefined;
}
