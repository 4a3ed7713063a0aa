// Reading the ZIP: yauzl reads the central directory, which gives random access, and each entry is
// streamed from the file, hashed as it comes; only packet.edxml is copied out, to a temporary file
// (the verifier needs random access to it).
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { openPromise, type Entry, type ZipFile } from "yauzl";

/** The file cannot be read as a ZIP at all (an input error, not a negative answer). */
export class BundleError extends Error {}

/** More files than a bundle ever holds: a ZIP without ZIP64 holds at most 65 535. */
const MAX_ENTRIES = 0xffff;
/** The small files read into memory: manifest, report, registry, status packets. */
const MAX_SMALL_FILE = 16 * 1024 * 1024;
/**
 * ZIP bombs: beyond this many inflated bytes, an entry (and the bundle as a whole) may inflate at
 * most MAX_RATIO times its compressed size. Our bundles store the packet and attachments and deflate
 * only small text files; a signed packet is base64 text, which deflate shrinks about 1.3:1.
 */
const RATIO_FLOOR = 8 * 1024 * 1024;
const MAX_RATIO = 100;

/**
 * Opens a bundle and reads its directory. Besides yauzl's checks (unsafe names, sizes, bounds), it
 * refuses what ZIP tools could read differently (a name not in UTF-8 or listed twice, a local header
 * that disagrees with the directory, overlapping entries) and what it cannot read (encryption,
 * compression other than stored and deflate).
 */
export async function openBundle(path: string): Promise<{ zip: ZipFile; entries: Map<string, Entry> }> {
  const bad = (why: string) =>
    new BundleError(`${path} is not a readable evidence bundle: ${why} — tệp không phải hồ sơ chứng cứ đọc được`);
  let zip: ZipFile;
  try {
    zip = await openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: true });
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code ? new BundleError(`cannot read the evidence bundle ${path}`) : bad((err as Error).message);
  }
  try {
    if (zip.entryCount > MAX_ENTRIES) throw bad(`it holds more than ${MAX_ENTRIES} files`);
    const entries = new Map<string, Entry>();
    const spans: Array<{ name: string; start: number; end: number }> = [];
    const total = { compressed: 0, uncompressed: 0 };
    for await (const e of zip.eachEntry()) {
      const name = e.fileName;
      if (!Buffer.from(name).equals(e.fileNameRaw)) throw bad(`the file name ${JSON.stringify(name)} is not in UTF-8`);
      if (entries.has(name)) throw bad(`${name} appears twice (ZIP tools would disagree on its content)`);
      if (e.isEncrypted()) throw bad(`${name} is encrypted`);
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) throw bad(`${name} uses an unsupported compression method (${e.compressionMethod})`);
      total.compressed += e.compressedSize;
      total.uncompressed += e.uncompressedSize;
      if (inflatesTooMuch(e.uncompressedSize, e.compressedSize)) throw bad(bombMessage(name, e.uncompressedSize, e.compressedSize));
      if (inflatesTooMuch(total.uncompressed, total.compressed)) throw bad(bombMessage("its files", total.uncompressed, total.compressed));
      const local = await zip.readLocalFileHeaderPromise(e);
      if (!local.fileName.equals(e.fileNameRaw) || local.compressionMethod !== e.compressionMethod) {
        throw bad(`the local header of ${name} disagrees with the ZIP directory`);
      }
      spans.push({ name, start: e.relativeOffsetOfLocalHeader, end: local.fileDataStart + e.compressedSize });
      entries.set(name, e);
    }
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i - 1].end > spans[i].start) throw bad(`${spans[i - 1].name} overlaps ${spans[i].name}`);
    }
    // the node writes no folder entries: one would show a file manager things nobody checked
    for (const name of entries.keys()) if (name.endsWith("/")) throw bad(`${name} is a folder entry; an evidence bundle holds files only`);
    return { zip, entries };
  } catch (err) {
    zip.close();
    throw err instanceof BundleError ? err : bad((err as Error).message);
  }
}

function inflatesTooMuch(uncompressed: number, compressed: number): boolean {
  return uncompressed > RATIO_FLOOR && uncompressed > MAX_RATIO * compressed;
}

function bombMessage(what: string, uncompressed: number, compressed: number): string {
  return `${what} would inflate from ${compressed} to ${uncompressed} bytes, more than ${MAX_RATIO} times (a ZIP bomb?); nothing was extracted`;
}

/**
 * An entry's bytes, streamed; yauzl stops the inflation as soon as it passes the size the directory
 * declares (a bomb that understates it), this checks the CRC-32.
 */
async function* entryChunks(zip: ZipFile, e: Entry): AsyncGenerator<Buffer> {
  let crc = 0;
  const stream = await zip.openReadStreamPromise(e);
  try {
    for await (const chunk of stream) {
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    if (/^too many bytes in the stream/.test((err as Error).message)) {
      throw new BundleError(`${e.fileName} inflates to more than the ${e.uncompressedSize} bytes the ZIP directory declares (a ZIP bomb?); it was not read further — tệp nén khai sai kích thước`);
    }
    throw err;
  }
  if (crc !== e.crc32) throw new Error("its CRC-32 does not match (the archive is damaged)");
}

export interface FileFacts {
  sha256: string | null;
  size: number;
  /** Why it could not be read. */
  error?: string;
  /** Kept for small files that are examined. */
  bytes?: Buffer;
}

/** An entry's digest and size, its bytes when `keep` (small files only), copied to `extractTo` when given. */
export async function readEntry(zip: ZipFile, e: Entry, keep: boolean, extractTo?: string): Promise<FileFacts> {
  const f: FileFacts = { sha256: null, size: 0 };
  const copy = extractTo ? await open(extractTo, "ax") : null;
  try {
    if (keep && e.uncompressedSize > MAX_SMALL_FILE) throw new Error(`it is larger than ${MAX_SMALL_FILE} bytes`);
    const hash = createHash("sha256");
    const parts: Buffer[] = [];
    for await (const chunk of entryChunks(zip, e)) {
      hash.update(chunk);
      f.size += chunk.length;
      if (keep) parts.push(chunk);
      await copy?.appendFile(chunk);
    }
    f.sha256 = hash.digest("hex");
    if (keep) f.bytes = Buffer.concat(parts);
  } catch (err) {
    if (err instanceof BundleError) throw err;
    f.error = `cannot be read from the archive: ${(err as Error).message}`;
  } finally {
    await copy?.close();
  }
  return f;
}
