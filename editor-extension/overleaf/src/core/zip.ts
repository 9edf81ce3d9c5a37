/**
 * Just enough of the ZIP format to take the .bib files out of Overleaf's project download
 * (`GET /Project/:id/download/zip`), the fallback when the editor's file tree (with doc ids) is not reachable.
 *
 * Why by hand: the browser has DecompressionStream("deflate-raw") for the data, and the container is a few
 * fixed-size records; a zip library would be the biggest part of the extension. Inflating is passed in so this
 * module stays pure (node's zlib in the unit test, DecompressionStream in the page).
 */

export type Inflate = (data: Uint8Array) => Promise<Uint8Array>;

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZipError";
  }
}

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  localHeader: number;
}

function centralDirectory(bytes: Uint8Array): Entry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("not a zip file (no end of central directory)");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  const entries: Entry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) throw new ZipError(`bad central directory record ${n}`);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    entries.push({
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      localHeader: view.getUint32(at + 42, true),
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The files of `zip` whose names `want` accepts, as UTF-8 text, in the archive's order. */
export async function extractTextFiles(zip: Uint8Array, want: (name: string) => boolean, inflate: Inflate): Promise<Array<{ path: string; text: string }>> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out: Array<{ path: string; text: string }> = [];
  for (const entry of centralDirectory(zip)) {
    if (entry.name.endsWith("/") || !want(entry.name)) continue;
    const at = entry.localHeader;
    if (view.getUint32(at, true) !== 0x04034b50) throw new ZipError(`${entry.name}: bad local header`);
    const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
    const data = zip.subarray(start, start + entry.compressedSize);
    let raw: Uint8Array;
    if (entry.method === 0) raw = data;
    else if (entry.method === 8) raw = await inflate(data);
    else throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported`);
    out.push({ path: entry.name, text: new TextDecoder().decode(raw) });
  }
  return out;
}
