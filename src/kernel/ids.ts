import { hash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function randomText(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] % 62];
  return out;
}

/** An opaque id with a type prefix, e.g. org_3kF9… (spec 11). */
export function newId(prefix: string): string {
  return `${prefix}_${randomText(20)}`;
}

/** A secret token with a recognizable prefix; only its hash is stored. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomText(40)}`;
}

/** SHA-256 of a high-entropy secret, hex: what the database keeps of tokens. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}
