import { inflateSync } from 'node:zlib';

/**
 * The strings shown by a PDF's content streams (Tj operators), in drawing order. Enough for PDFs
 * that pdf-lib writes with the standard fonts: streams are Flate-compressed, text is hex WinAnsi.
 */
export function pdfStrings(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const strings: string[] = [];
  let from = 0;
  for (;;) {
    const start = buffer.indexOf('stream', from, 'latin1');
    if (start < 0) break;
    const end = buffer.indexOf('endstream', start, 'latin1');
    if (end < 0) break;
    from = end + 'endstream'.length;
    if (buffer.subarray(start - 3, start).toString('latin1') === 'end') continue;
    let dataStart = start + 'stream'.length;
    if (buffer[dataStart] === 0x0d) dataStart++;
    if (buffer[dataStart] === 0x0a) dataStart++;
    const data = buffer.subarray(dataStart, end);
    let content: string;
    try {
      content = inflateSync(data).toString('latin1');
    } catch {
      content = data.toString('latin1');
    }
    for (const match of content.matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g)) {
      strings.push(Buffer.from(match[1], 'hex').toString('latin1'));
    }
    for (const match of content.matchAll(/\(((?:\\.|[^\\)])*)\)\s*Tj/g)) strings.push(match[1]);
  }
  return strings;
}

/** All the shown text of a PDF, one drawn string a line. */
export function pdfText(bytes: Uint8Array): string {
  return pdfStrings(bytes).join('\n');
}
