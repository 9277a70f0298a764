import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { UsageReport } from './usage-counter.ts';

const rejectedFolder = 'rejected';
const reportFile = /^[A-Za-z0-9_-]+\.json$/;

/** A report read back from the spool, or a file there that is not one. */
export type SpooledEntry = { kind: 'report'; report: UsageReport } | { kind: 'unreadable'; fileId: string };

function isUsageReport(value: unknown): value is UsageReport {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.report_id === 'string' && Array.isArray(candidate.usage);
}

/** Writes a file so that it is either absent or whole, even if the process dies midway. */
async function writeWhole(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  // The rename itself is durable only once the folder is synced.
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * Reports waiting to be accepted by the control plane, one JSON file each, named after the
 * report id. A report is written here before it is sent and removed only once accepted, so a
 * crash or a restart loses nothing; reports the control plane can never accept go to `rejected/`.
 */
export class Spool {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the folders; leftovers of interrupted writes (hidden .tmp files) are removed. */
  async open(): Promise<void> {
    await mkdir(join(this.dir, rejectedFolder), { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) await rm(join(this.dir, name), { force: true });
    }
  }

  #path(reportId: string): string {
    const name = `${reportId}.json`;
    if (!reportFile.test(name)) throw new Error(`report id ${JSON.stringify(reportId)} cannot name a file`);
    return join(this.dir, name);
  }

  /** Stores a report durably. */
  async write(report: UsageReport): Promise<void> {
    await writeWhole(this.#path(report.report_id), `${JSON.stringify(report)}\n`);
  }

  /** Every report waiting, oldest id first, and any file that cannot be read as one. */
  async list(): Promise<SpooledEntry[]> {
    const names = (await readdir(this.dir)).filter((name) => reportFile.test(name)).sort();
    const entries: SpooledEntry[] = [];
    for (const name of names) {
      let content: string;
      try {
        content = await readFile(join(this.dir, name), 'utf8');
      } catch (error) {
        // Removed meanwhile (sent by an overlapping flush): nothing to do.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch {
        parsed = undefined;
      }
      if (isUsageReport(parsed) && `${parsed.report_id}.json` === name) {
        entries.push({ kind: 'report', report: parsed });
      } else {
        entries.push({ kind: 'unreadable', fileId: name.slice(0, -'.json'.length) });
      }
    }
    return entries;
  }

  /** Removes an accepted report. */
  async remove(reportId: string): Promise<void> {
    await rm(this.#path(reportId), { force: true });
  }

  /**
   * Moves a report (or an unreadable file, named without .json) the control plane can never
   * accept to `rejected/`, with the reason beside it, for an operator to look at.
   */
  async reject(reportId: string, reason: string): Promise<string> {
    const from = this.#path(reportId);
    const to = join(this.dir, rejectedFolder, `${reportId}.json`);
    await writeWhole(join(this.dir, rejectedFolder, `${reportId}.reason.txt`), `${reason}\n`);
    await rename(from, to);
    return to;
  }

  /** The files in `rejected/` (reports only, not the reasons). */
  async listRejected(): Promise<string[]> {
    const names = await readdir(join(this.dir, rejectedFolder));
    return names.filter((name) => name.endsWith('.json')).sort();
  }
}
