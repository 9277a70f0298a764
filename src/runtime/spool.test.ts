import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';
import type { UsageReport } from './usage-counter.ts';

let dir: string;
let spool: Spool;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tierline-spool-'));
  spool = new Spool(dir);
  await spool.open();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const report = (id: string, requests = 3): UsageReport => ({
  report_id: id,
  usage: [{ timestamp: '2025-03-01T12:34:00Z', requests, service: 'echo' }],
});

describe('Spool', () => {
  it('writes one JSON file per report, named after its id, and nothing else', async () => {
    await spool.write(report('r-000001'));
    expect((await readdir(dir)).sort()).toEqual(['r-000001.json', 'rejected']);
    expect(JSON.parse(await readFile(join(dir, 'r-000001.json'), 'utf8'))).toEqual(report('r-000001'));
  });

  it('lists the reports oldest id first, as written', async () => {
    await spool.write(report('r-000002', 2));
    await spool.write(report('r-000001', 1));
    await spool.write(report('r-000010', 10));
    expect(await spool.list()).toEqual([
      { kind: 'report', report: report('r-000001', 1) },
      { kind: 'report', report: report('r-000002', 2) },
      { kind: 'report', report: report('r-000010', 10) },
    ]);
  });

  it('survives a new Spool on the same folder (a restart)', async () => {
    await spool.write(report('r-000001'));
    const again = new Spool(dir);
    await again.open();
    expect(await again.list()).toEqual([{ kind: 'report', report: report('r-000001') }]);
  });

  it('deletes a report, and deleting twice is harmless', async () => {
    await spool.write(report('r-000001'));
    await spool.write(report('r-000002'));
    await spool.remove('r-000001');
    await spool.remove('r-000001');
    expect((await spool.list()).map((entry) => entry.kind === 'report' && entry.report.report_id)).toEqual([
      'r-000002',
    ]);
  });

  it('moves a rejected report to rejected/ with the reason beside it', async () => {
    await spool.write(report('r-000001'));
    const moved = await spool.reject('r-000001', 'HTTP 400 (timestamp_out_of_range)');
    expect(moved).toBe(join(dir, 'rejected', 'r-000001.json'));
    expect(await spool.list()).toEqual([]);
    expect(await spool.listRejected()).toEqual(['r-000001.json']);
    expect(JSON.parse(await readFile(moved, 'utf8'))).toEqual(report('r-000001'));
    expect(await readFile(join(dir, 'rejected', 'r-000001.reason.txt'), 'utf8')).toContain('timestamp_out_of_range');
  });

  it('ignores and clears leftovers of interrupted writes, and flags files that are not reports', async () => {
    await writeFile(join(dir, '.0123abcd.tmp'), '{"report_id":"r-00');
    await writeFile(join(dir, 'broken.json'), '{"report_id":');
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeFile(join(dir, 'renamed.json'), JSON.stringify(report('other-id')));
    expect(await spool.list()).toEqual([
      { kind: 'unreadable', fileId: 'broken' },
      { kind: 'unreadable', fileId: 'renamed' },
    ]);
    await spool.open();
    expect(await readdir(dir)).not.toContain('.0123abcd.tmp');
    await spool.reject('broken', 'not a report');
    expect(await spool.listRejected()).toEqual(['broken.json']);
  });

  it('refuses report ids that cannot name a file', async () => {
    await expect(spool.write(report('../escape'))).rejects.toThrow(/cannot name a file/);
    await expect(spool.write(report(''))).rejects.toThrow(/cannot name a file/);
  });

  it('leaves no temporary files behind after writing', async () => {
    for (let index = 1; index <= 20; index += 1) await spool.write(report(`r-${String(index).padStart(6, '0')}`));
    const names = await readdir(dir);
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(names.filter((name) => name.endsWith('.json'))).toHaveLength(20);
  });
});
