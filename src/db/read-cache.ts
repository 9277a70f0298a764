import { randomBytes } from 'node:crypto';
import type { DatabaseHandle } from './client.ts';

/** The channel the change triggers (migration 0009) notify: changed org ids, comma-separated, or '*'. */
export const ORG_CHANGES_CHANNEL = 'tierline_org_changed';
/** Notices this process sends itself to know it has seen every change committed before them. */
const SYNC_PREFIX = 'sync:';
/**
 * Notices of accepted usage, which no trigger sends (one per report would serialize ingestion's
 * commits): `usage:<process>:<org ids, comma-separated, or *>`, at most one per process per interval.
 */
const USAGE_PREFIX = 'usage:';
export const USAGE_NOTICE_INTERVAL_MS = 500;
/** Past this many orgs in one interval the notice says '*' (a notice's payload is at most 8,000 bytes). */
const MAX_ORGS_PER_NOTICE = 200;
const SYNC_TIMEOUT_MS = 2_000;
const RELISTEN_MS = 2_000;

interface Entry {
  orgId: string;
  /** A read to replace it is under way (refresh ahead). */
  refreshing?: boolean;
  /** The change counter when the read that filled it started. */
  readAt: number;
  /** When it was filled (monotonic ms), for entries that may only be so old. */
  filledAtMs: number;
  usage: boolean;
  value: unknown;
}

export interface ReadOptions {
  /** Serve the entry only while younger than this (for reads the change notices do not cover). */
  maxAgeMs?: number;
  /** The read depends on usage too: forgotten by `forgetUsage` as well. */
  usage?: boolean;
}

export interface ReadCacheOptions {
  enabled: boolean;
  maxEntries?: number;
  /** Monotonic milliseconds; injectable for tests. */
  monotonicMs?: () => number;
}

/**
 * Reads about one org (a token's caller, the billing snapshot) kept in memory until a change to that
 * org is committed. Every process listens for the change notices that triggers on the underlying
 * tables send on commit; an entry is served only if no notice for its org (or for all) arrived since
 * the read that filled it started, so a read racing a change never stores the old answer. While the
 * notices cannot be received (the listening connection is down), nothing is cached.
 */
export class OrgReadCache {
  private readonly entries = new Map<string, Entry>();
  /** org id → the change counter at its last change notice. */
  private readonly orgChangedAt = new Map<string, number>();
  private readonly usageChangedAt = new Map<string, number>();
  private changes = 0;
  private forgotAllAt = 0;
  private usageForgotAllAt = 0;
  /** Orgs whose usage this process accepted since its last usage notice. */
  private readonly usageToAnnounce = new Set<string>();
  private announceTimer?: NodeJS.Timeout;
  private announcing?: Promise<void>;
  private listening = false;
  private readonly maxEntries: number;
  private readonly monotonicMs: () => number;
  private readonly syncToken = randomBytes(6).toString('hex');
  private syncCount = 0;
  private readonly syncWaiters = new Map<string, () => void>();
  private stopListening?: () => Promise<void>;
  private relistenTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly database: DatabaseHandle | undefined;
  private readonly options: ReadCacheOptions;
  hits = 0;
  misses = 0;
  /** Reads made in the background to replace an entry near its age limit (refresh ahead). */
  refreshes = 0;

  constructor(database: DatabaseHandle | undefined, options: ReadCacheOptions) {
    this.database = database;
    this.options = options;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
  }

  /** Starts listening for change notices; until then (and without a database) nothing is cached. */
  async start(): Promise<void> {
    if (!this.options.enabled || !this.database || this.closed) return;
    try {
      this.stopListening = await this.database.listen(
        ORG_CHANGES_CHANNEL,
        (payload) => this.onNotice(payload),
        () => this.onLost(),
      );
      // Whatever changed before the listener was up was never announced to this process.
      this.forgetAll();
      this.listening = true;
    } catch {
      this.onLost();
    }
  }

  async close(): Promise<void> {
    // Usage accepted just before stopping is still announced (the other processes' estimates).
    clearTimeout(this.announceTimer);
    await this.announceUsage();
    this.closed = true;
    this.listening = false;
    clearTimeout(this.relistenTimer);
    for (const wake of this.syncWaiters.values()) wake();
    await this.stopListening?.();
  }

  /**
   * The value under `key`, from memory when a fresh entry is there, else from `load` (and kept if
   * nothing about its org changed meanwhile). `org` is the org the value is about, or a function that
   * finds it in the loaded value (undefined: not kept). Values are shared: callers must not change them.
   * A hit is answered without a promise (the hot path of every cached request).
   */
  read<T>(
    key: string,
    org: string | ((value: T) => string | undefined),
    load: () => Promise<T>,
    options: ReadOptions = {},
  ): T | Promise<T> {
    const entry = this.entries.get(key);
    if (entry && this.isFresh(entry, options.maxAgeMs)) {
      this.hits++;
      // Refresh ahead: past 80% of its age limit, a hot entry is read again in the background, so
      // no request waits for the database only because the entry grew old.
      if (options.maxAgeMs !== undefined && !entry.refreshing) {
        if (this.monotonicMs() - entry.filledAtMs >= options.maxAgeMs * 0.8) {
          entry.refreshing = true;
          this.refreshes++;
          this.fill(key, org, load, options, true).catch(() => {
            entry.refreshing = false;
          });
        }
      }
      return entry.value as T;
    }
    return this.fill(key, org, load, options);
  }

  private async fill<T>(
    key: string,
    org: string | ((value: T) => string | undefined),
    load: () => Promise<T>,
    options: ReadOptions,
    refresh = false,
  ): Promise<T> {
    if (!refresh) this.misses++;
    const readAt = this.changes;
    const wasListening = this.listening;
    const value = await load();
    const orgId = typeof org === 'function' ? org(value) : org;
    if (orgId && wasListening && this.listening) {
      const candidate: Entry = {
        orgId,
        readAt,
        filledAtMs: this.monotonicMs(),
        usage: options.usage ?? false,
        value,
      };
      if (this.isValid(candidate)) {
        if (this.entries.size >= this.maxEntries) this.forgetAll();
        else this.entries.set(key, candidate);
      }
    }
    return value;
  }

  /** Forgets one entry (its value no longer fits the caller). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /**
   * This process accepted usage for the org: what depends on its usage is forgotten here at once,
   * and in the other processes when the usage notice, sent within USAGE_NOTICE_INTERVAL_MS for every
   * org of the interval, reaches them. A notice lost with its process leaves their entries to their
   * age limit.
   */
  usageAccepted(orgId: string): void {
    this.noteChange(this.usageChangedAt, orgId);
    if (!this.options.enabled || !this.database || this.closed) return;
    this.usageToAnnounce.add(orgId);
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = undefined;
      void this.announceUsage();
    }, USAGE_NOTICE_INTERVAL_MS);
    this.announceTimer.unref();
  }

  /** Sends one usage notice for the orgs gathered since the last one (after the one under way). */
  private async announceUsage(): Promise<void> {
    await this.announcing;
    if (this.usageToAnnounce.size === 0 || !this.database) return;
    const orgs = this.usageToAnnounce.size > MAX_ORGS_PER_NOTICE ? '*' : [...this.usageToAnnounce].join(',');
    this.usageToAnnounce.clear();
    const database = this.database;
    this.announcing = database
      .notify(ORG_CHANGES_CHANNEL, `${USAGE_PREFIX}${this.syncToken}:${orgs}`)
      .catch(() => {
        // Not announced: the other processes serve their estimates until the age limit at most.
      })
      .finally(() => {
        this.announcing = undefined;
      });
    await this.announcing;
  }

  /**
   * Resolves once this process has received every change notice committed before the call, so a
   * read after it sees this process's own committed writes. Gives up (and forgets everything) after
   * two seconds.
   */
  async sync(): Promise<void> {
    if (!this.listening || !this.database) return;
    const token = `${SYNC_PREFIX}${this.syncToken}:${++this.syncCount}`;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<void>((resolve) => {
      this.syncWaiters.set(token, resolve);
      timer = setTimeout(() => {
        this.forgetAll();
        resolve();
      }, SYNC_TIMEOUT_MS);
    });
    try {
      await this.database.notify(ORG_CHANGES_CHANNEL, token);
      await arrived;
    } catch {
      this.forgetAll();
    } finally {
      clearTimeout(timer);
      this.syncWaiters.delete(token);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private onNotice(payload: string): void {
    if (payload.startsWith(SYNC_PREFIX)) {
      this.syncWaiters.get(payload)?.();
      return;
    }
    if (payload.startsWith(USAGE_PREFIX)) {
      const [sender, orgs = ''] = splitOnce(payload.slice(USAGE_PREFIX.length), ':');
      // This process forgot those orgs' usage when it accepted it.
      if (sender === this.syncToken) return;
      if (orgs === '*') {
        this.changes++;
        this.usageForgotAllAt = this.changes;
        this.usageChangedAt.clear();
        return;
      }
      for (const orgId of orgs.split(',')) this.noteChange(this.usageChangedAt, orgId);
      return;
    }
    if (payload === '*') {
      this.forgetAll();
      return;
    }
    for (const orgId of payload.split(',')) this.noteChange(this.orgChangedAt, orgId);
  }

  private onLost(): void {
    this.listening = false;
    this.forgetAll();
    for (const wake of this.syncWaiters.values()) wake();
    this.stopListening = undefined;
    if (this.closed) return;
    clearTimeout(this.relistenTimer);
    this.relistenTimer = setTimeout(() => void this.start(), RELISTEN_MS);
    this.relistenTimer.unref();
  }

  private noteChange(changedAt: Map<string, number>, orgId: string): void {
    this.changes++;
    if (changedAt.size >= this.maxEntries) {
      this.forgetAll();
      return;
    }
    changedAt.set(orgId, this.changes);
  }

  private forgetAll(): void {
    this.changes++;
    this.forgotAllAt = this.changes;
    this.entries.clear();
    this.orgChangedAt.clear();
    this.usageChangedAt.clear();
  }

  /** No notice about the entry's org arrived after its read started (a notice at the start is older). */
  private isValid(entry: Entry): boolean {
    if (entry.readAt < this.forgotAllAt) return false;
    if (entry.readAt < (this.orgChangedAt.get(entry.orgId) ?? 0)) return false;
    if (!entry.usage) return true;
    return entry.readAt >= this.usageForgotAllAt && entry.readAt >= (this.usageChangedAt.get(entry.orgId) ?? 0);
  }

  private isFresh(entry: Entry, maxAgeMs: number | undefined): boolean {
    if (!this.listening || !this.isValid(entry)) return false;
    return maxAgeMs === undefined || this.monotonicMs() - entry.filledAtMs < maxAgeMs;
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}
