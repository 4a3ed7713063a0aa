// Content-addressed blobs (SHA-256), stored in the database in 1 MiB chunks: packets byte-exact
// and attachments of any size stream in and out, and a blob is written in the same transaction as
// the record that points to it (no half documents).
import { createHash, randomUUID } from "node:crypto";
import type { Db } from "./db.ts";

const CHUNK = 1 << 20;

export interface BlobRef {
  sha256: string;
  size: number;
}

/** Stores bytes (or a stream of them) and returns their SHA-256; an existing blob is reused. */
export async function putBlob(db: Db, content: Buffer | AsyncIterable<Buffer>): Promise<BlobRef> {
  const temp = `tmp-${randomUUID()}`;
  const hash = createHash("sha256");
  let size = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  await db("blobs").insert({ sha256: temp, size: 0, created_at: new Date() });
  const flush = async () => {
    if (!pendingBytes) return;
    await db("blob_chunks").insert({ sha256: temp, seq: seq++, data: Buffer.concat(pending, pendingBytes) });
    pending = [];
    pendingBytes = 0;
  };
  const add = async (buf: Buffer) => {
    hash.update(buf);
    size += buf.length;
    for (let at = 0; at < buf.length; ) {
      const take = Math.min(CHUNK - pendingBytes, buf.length - at);
      pending.push(Buffer.from(buf.subarray(at, at + take))); // a copy: callers may reuse their buffer
      pendingBytes += take;
      at += take;
      if (pendingBytes === CHUNK) await flush();
    }
  };
  if (Buffer.isBuffer(content)) await add(content);
  else for await (const chunk of content) await add(chunk);
  await flush();
  const sha256 = hash.digest("hex");
  // Another writer may store the same content at the same time: whoever inserts the row keeps
  // its chunks, the other drops its own.
  const inserted = await db("blobs").insert({ sha256, size, created_at: new Date() }).onConflict("sha256").ignore().returning("sha256");
  if (inserted.length) await db("blob_chunks").where({ sha256: temp }).update({ sha256 });
  else await db("blob_chunks").where({ sha256: temp }).delete();
  await db("blobs").where({ sha256: temp }).delete();
  return { sha256, size };
}

/** The blob's bytes in order, one chunk at a time (flat memory). */
export async function* readBlob(db: Db, sha256: string): AsyncGenerator<Buffer> {
  const blob = await db("blobs").where({ sha256 }).first();
  if (!blob) throw new Error(`blob ${sha256} not found`);
  for (let seq = 0; ; seq++) {
    const row = await db("blob_chunks").where({ sha256, seq }).first("data");
    if (!row) return;
    yield Buffer.from(row.data);
  }
}

/** The whole blob in memory: for packets and status packets known to be small. */
export async function blobBytes(db: Db, sha256: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of readBlob(db, sha256)) parts.push(chunk);
  return Buffer.concat(parts);
}

export async function blobSize(db: Db, sha256: string): Promise<number | null> {
  const row = await db("blobs").where({ sha256 }).first("size");
  return row ? Number(row.size) : null;
}
