/** fsync helpers: a rename is only durable once the directory holding it is synced too. */
import { close, closeSync, fsync, fsyncSync, openSync } from "node:fs";

export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts fsyncing `path` on libuv's thread pool at once, so that synchronous work on the main thread
 * (an integrity check of the same file) overlaps it. Await the result before relying on durability.
 */
export function fsyncInBackground(path: string): Promise<void> {
  const fd = openSync(path, "r");
  return new Promise((resolveSync, reject) => {
    fsync(fd, (syncError) => {
      close(fd, (closeError) => {
        const error = syncError ?? closeError;
        if (error) reject(error);
        else resolveSync();
      });
    });
  });
}
