/** What the service needs from a database; both backends pass the same behaviour tests. */
export interface StoredEvent {
  readonly id: number;
  readonly message: string;
  /** ISO 8601, UTC. */
  readonly created_at: string;
}

export interface Storage {
  readonly kind: "sqlite" | "postgres";
  /** Inserts and commits durably before resolving: a resolved insert is an acknowledged write. */
  addEvent(message: string): Promise<StoredEvent>;
  countEvents(): Promise<number>;
  /** The newest `limit` events, newest first. */
  recentEvents(limit: number): Promise<StoredEvent[]>;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /** Resolves when a write the size of the largest event commits (and is undone): writes fit. */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}
