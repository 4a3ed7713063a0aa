// Attachment payloads. The VNPT EdXML102 library zips every file into a ZIP with a single entry
// named `<random-UUID>.<ext>` before base64-encoding it, and says nothing about it in ContentType;
// other senders put the file bytes as they are. Readers therefore sniff the ZIP magic.
import { randomUUID } from "node:crypto";
import { unzipSync, zipSync } from "fflate";

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\x03\x04"

/** Default ceiling for the declared size of an entry we unpack (guards against zip bombs). */
export const MAX_UNWRAPPED_BYTES = 1024 * 1024 * 1024;

export interface Unwrapped {
  data: Uint8Array;
  /** true when `data` was taken out of a single-entry ZIP. */
  zipped: boolean;
  /** The entry's name inside the ZIP (the VNPT library's `<uuid>.<ext>`), when zipped. */
  entryName?: string;
}

export function isZip(data: Uint8Array): boolean {
  return data.length >= 4 && ZIP_MAGIC.every((b, i) => data[i] === b);
}

/**
 * If `data` is a ZIP archive holding exactly one file (directory entries aside), return that
 * file's bytes; otherwise (not a ZIP, several files, a damaged or unsupported archive, an entry
 * declared larger than `maxBytes`) return the data as it is with `zipped: false`.
 * Note that a .docx/.xlsx/.odt file is itself a ZIP of many entries and is therefore kept as is.
 */
export function unwrapAttachment(data: Uint8Array, maxBytes: number = MAX_UNWRAPPED_BYTES): Unwrapped {
  const asIs: Unwrapped = { data, zipped: false };
  if (!isZip(data)) return asIs;
  try {
    const files: { name: string; originalSize: number }[] = [];
    unzipSync(data, {
      filter: (f) => {
        if (!f.name.endsWith("/")) files.push({ name: f.name, originalSize: f.originalSize });
        return false; // list only
      },
    });
    if (files.length !== 1 || files[0].originalSize > maxBytes) return asIs;
    const name = files[0].name;
    const out = unzipSync(data, { filter: (f) => f.name === name });
    const entry = out[name];
    if (!entry) return asIs;
    return { data: entry, zipped: true, entryName: name };
  } catch {
    return asIs;
  }
}

/**
 * A ZIP with one entry named `<uuid>.<ext>` (ext taken from `name`, lower-cased; none when `name`
 * has no extension), the convention of the VNPT library, for peers that need it.
 */
export function zipSingle(name: string, data: Uint8Array): Uint8Array {
  const base = name.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : "";
  const entry = ext ? `${randomUUID()}.${ext}` : randomUUID();
  return zipSync({ [entry]: [data, { level: 6 }] });
}
