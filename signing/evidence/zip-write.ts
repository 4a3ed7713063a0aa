// Writing the ZIP with fflate's streaming Zip: each file is read once and hashed as it is zipped,
// and the ZIP is made only as fast as the output takes it. fflate writes no ZIP64, so a bundle is
// limited to 4 GiB; the writer refuses to go past it.
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import type { ManifestFile } from "./layout.ts";

/** ZIP without ZIP64: sizes and offsets are 32-bit. Kept a little below for the directory. */
const ZIP32_LIMIT = 0xffffffff - 64 * 1024 * 1024;

/** Info-ZIP Unicode Path extra field (APPNOTE 4.6.9). */
const UNICODE_PATH = 0x7075;

/**
 * The name again, in the Info-ZIP Unicode Path field: version 1, the CRC-32 of the header's name,
 * the UTF-8 name. fflate sets the UTF-8 flag, but Info-ZIP unzip 6.00 (Debian's) ignores it for an
 * archive made on "MS-DOS" and shows the bytes as code page 437; it, 7-Zip and WinRAR read this field.
 */
function unicodePath(path: string): Uint8Array {
  const name = Buffer.from(path, "utf8");
  const field = Buffer.alloc(5 + name.length);
  field[0] = 1;
  field.writeUInt32LE(crc32(name), 1);
  name.copy(field, 5);
  return field;
}

/**
 * fflate's streaming Zip, its output as generators: `add` each file in turn (stored, byte-exact on
 * disk, or deflated), then `end`. `files` lists each file's SHA-256 and size, taken as it goes in.
 */
export function zipStream(mtime: Date) {
  const files: ManifestFile[] = [];
  const pending: Buffer[] = [];
  let failure: Error | null = null;
  let written = 0;
  const zip = new Zip((err, chunk) => {
    if (err) failure ??= err;
    else pending.push(Buffer.from(chunk)); // a copy: sources may reuse their buffers
  });
  function* flush(): Generator<Buffer> {
    if (failure) throw failure;
    for (const chunk of pending.splice(0)) {
      written += chunk.length;
      if (written > ZIP32_LIMIT) throw new Error("the evidence bundle would exceed 4 GiB, the limit of a ZIP file without ZIP64");
      yield chunk;
    }
  }
  async function* add(path: string, data: Buffer | AsyncIterable<Buffer | Uint8Array>, store: boolean): AsyncGenerator<Buffer> {
    if (files.some((f) => f.path === path)) throw new Error(`internal error: two files named ${path}`);
    const file = store ? new ZipPassThrough(path) : new ZipDeflate(path, { level: 6 });
    file.mtime = mtime;
    file.extra = { [UNICODE_PATH]: unicodePath(path) };
    zip.add(file);
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of Buffer.isBuffer(data) ? [data] : data) {
      if (!chunk.length) continue;
      hash.update(chunk);
      size += chunk.length;
      file.push(chunk);
      yield* flush();
    }
    file.push(new Uint8Array(0), true);
    yield* flush();
    files.push({ path, sha256: hash.digest("hex"), size });
  }
  function* end(): Generator<Buffer> {
    zip.end();
    yield* flush();
  }
  return { files, add, end };
}
