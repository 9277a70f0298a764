import { createInterface } from 'node:readline/promises';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { realNow } from '../kernel/clock.ts';
import { AppError } from '../kernel/errors.ts';
import { createStaffMember } from '../modules/identity/staff.ts';

/** Reads the password from standard input: a hidden prompt on a terminal, else the first line. */
async function readPassword(): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    let text = '';
    for await (const chunk of input) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  const lines = createInterface({ input, output: process.stderr, terminal: true });
  const output = process.stderr as NodeJS.WriteStream & { muted?: boolean };
  process.stderr.write('Password (8 to 128 characters): ');
  const write = output.write.bind(output);
  // Hide what is typed: the prompt is written before muting.
  output.write = ((chunk: string | Uint8Array) =>
    typeof chunk === 'string' && chunk.includes('\n') ? write('\n') : true) as typeof output.write;
  try {
    return await lines.question('');
  } finally {
    output.write = write;
    lines.close();
  }
}

/** `tierline admin create`: a staff member with the given roles, its password read from stdin. */
export async function createAdminCommand(
  config: Config,
  input: { email: string; roles: string[]; name: string },
): Promise<void> {
  const password = await readPassword();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    const user = await createStaffMember(database.db, realNow(), {
      actorId: null,
      password,
      fullName: input.name,
      ...input,
    });
    console.log(`Created ${user.email} (${user.id}) with staff roles: ${user.staffRoles.join(', ')}.`);
  } catch (error) {
    if (error instanceof AppError) {
      console.error(`tierline: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    await database.close();
  }
}
