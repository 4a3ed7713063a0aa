// Content-addressed blobs (SHA-256): a row in `blobs` (hash, size) that records point to, and the
// bytes in a blob store (stores.ts). The default store keeps them in the database in 1 MiB chunks,
// written in the same transaction as the record that points to them (no half documents); the
// others write them before that transaction (storeBlobs). A blob is hashed before its transaction
// and inserted once under its hash.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { Knex } from "knex";
import type { Db } from "./handle.ts";
import { hotAll, hotInsert, insertOf } from "./hot.ts";

const CHUNK = 1 << 20;
/** Content up to this size is kept in memory between its hash and its insert; bigger is read again. */
const IN_MEMORY = 8 * CHUNK;

export interface BlobRef {
  sha256: string;
  size: number;
}

/** Where a blob's bytes live (EDOC_BLOB_STORE; stores.ts), keyed by their SHA-256. */
export interface BlobStore {
  kind: "db" | "fs" | "s3";
  /** As EDOC_BLOB_STORE says it (without credentials). */
  name: string;
  /** Makes the bytes durable (the database store: nothing, putBlobs writes them with the row). */
  put(blob: PreparedBlob): Promise<void>;
  /** The bytes in order; fails when the store holds other than `size` bytes. */
  get(sha256: string, size: number): AsyncIterable<Buffer>;
  has(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  /** Every object of the store with its last write; a leftover of an interrupted write has no sha256. */
  list(): AsyncIterable<{ sha256: string | null; at: Date; remove(): Promise<void> }>;
}

/** A blob hashed before its transaction, with its bytes for the insert. */
export interface PreparedBlob extends BlobRef {
  /** The content in chunks of at most 1 MiB: in memory, or read again from its source. */
  chunks(): Iterable<Buffer> | AsyncIterable<Buffer>;
}

/** Bytes in memory, hashed (no I/O: may be called inside a transaction). */
export function preparedBytes(bytes: Buffer): PreparedBlob {
  return inMemory(bytes, createHash("sha256").update(bytes).digest("hex"));
}

function inMemory(bytes: Buffer, sha256: string): PreparedBlob {
  const chunks = Array.from({ length: Math.ceil(bytes.length / CHUNK) }, (_, i) => bytes.subarray(i * CHUNK, (i + 1) * CHUNK));
  return { sha256, size: bytes.length, chunks: () => chunks };
}

/**
 * Hashes content read from `source` (called once, and a second time for content over 8 MiB,
 * which is then inserted as it is read again: flat memory for attachments of any size). Call it
 * before the transaction: small content is read only here.
 */
export async function prepareBlob(source: () => AsyncIterable<Buffer>): Promise<PreparedBlob> {
  const hash = createHash("sha256");
  let size = 0;
  let kept: Buffer[] | null = [];
  for await (const chunk of source()) {
    hash.update(chunk);
    size += chunk.length;
    if (kept && size > IN_MEMORY) kept = null;
    else kept?.push(Buffer.from(chunk)); // a copy: sources may reuse their buffer
  }
  const sha256 = hash.digest("hex");
  if (kept) return inMemory(Buffer.concat(kept, size), sha256);
  return { sha256, size, chunks: () => rechunked(source()) };
}

/** A file's blob, hashed: a small file read once, in one buffer of its size; a big one streamed twice. */
export async function prepareFile(path: string): Promise<PreparedBlob> {
  if ((await stat(path)).size <= IN_MEMORY) return preparedBytes(await readFile(path));
  return prepareBlob(() => createReadStream(path, { highWaterMark: CHUNK }));
}

async function* rechunked(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const buf of source) {
    for (let at = 0; at < buf.length; ) {
      const take = Math.min(CHUNK - pendingBytes, buf.length - at);
      pending.push(Buffer.from(buf.subarray(at, at + take)));
      pendingBytes += take;
      at += take;
      if (pendingBytes === CHUNK) {
        yield Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes) yield Buffer.concat(pending, pendingBytes);
}

/** Makes prepared blobs durable in their store: call it before the transaction that references them. */
export async function storeBlobs(store: BlobStore, blobs: readonly PreparedBlob[]): Promise<void> {
  for (const b of new Map(blobs.map((b) => [b.sha256, b])).values()) await store.put(b);
}

/**
 * Records prepared blobs, each once: one insert of their rows and, in the database store, the
 * chunks of those that were not stored yet (a concurrent writer of the same content waits on the
 * unique index and then finds it stored). In memory, all chunks in one statement per 8 MiB. The
 * other stores hold the bytes already (storeBlobs, before this transaction).
 */
export async function putBlobs(db: Db, store: BlobStore, blobs: readonly PreparedBlob[]): Promise<BlobRef[]> {
  const unique = [...new Map(blobs.map((b) => [b.sha256, b])).values()];
  if (unique.length) {
    const now = new Date();
    const { sql, params } = insertOf("blobs", unique.map((b) => ({ sha256: b.sha256, size: b.size, created_at: now })));
    const inserted = new Set((await hotAll<{ sha256: string }>(db, `${sql} on conflict ("sha256") do nothing returning "sha256"`, params)).map((r) => r.sha256));
    if (store.kind === "db") await insertChunks(db, unique.filter((b) => inserted.has(b.sha256)));
  }
  return blobs.map((b) => ({ sha256: b.sha256, size: b.size }));
}

/** The blobs' chunks as rows of `blob_chunks`, several blobs in one statement, statements of about 8 MiB. */
async function insertChunks(db: Db, blobs: readonly PreparedBlob[]): Promise<void> {
  let rows: Array<{ sha256: string; seq: number; data: Buffer }> = [];
  let rowBytes = 0;
  for (const b of blobs) {
    let seq = 0;
    for await (const data of b.chunks()) {
      rows.push({ sha256: b.sha256, seq: seq++, data });
      rowBytes += data.length;
      if (rowBytes >= IN_MEMORY) {
        await hotInsert(db, "blob_chunks", rows);
        rows = [];
        rowBytes = 0;
      }
    }
  }
  if (rows.length) await hotInsert(db, "blob_chunks", rows);
}

/** Stores bytes in memory and returns their SHA-256; an existing blob is reused (for tests and small content). */
export async function putBlob(db: Db, store: BlobStore, bytes: Buffer): Promise<BlobRef> {
  const blob = preparedBytes(bytes);
  await storeBlobs(store, [blob]);
  return (await putBlobs(db, store, [blob]))[0];
}

/** The blob's bytes in order, one chunk at a time (flat memory), from its store. */
export async function* readBlob(db: Db, store: BlobStore, sha256: string): AsyncGenerator<Buffer> {
  const size = await blobSize(db, sha256);
  if (size === null) throw new Error(`blob ${sha256} not found`);
  yield* store.get(sha256, size);
}

/** The whole blob in memory: for packets and status packets known to be small. */
export async function blobBytes(db: Db, store: BlobStore, sha256: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of readBlob(db, store, sha256)) parts.push(chunk);
  return Buffer.concat(parts);
}

export async function blobSize(db: Db, sha256: string): Promise<number | null> {
  const row = await db("blobs").where({ sha256 }).first("size");
  return row ? Number(row.size) : null;
}

/** The database store: the bytes in `blob_chunks`, written with their row (putBlobs). */
export function databaseStore(db: Knex): BlobStore {
  return {
    kind: "db",
    name: "db",
    async put() {},
    async *get(sha256, size) {
      for (let seq = 0; seq * CHUNK < size; seq++) {
        const row = await db("blob_chunks").where({ sha256, seq }).first("data");
        if (!row) throw new Error(`blob ${sha256} lacks its chunk ${seq}`);
        yield Buffer.from(row.data);
      }
    },
    async has(sha256) {
      const size = await blobSize(db, sha256);
      if (size === null) return false;
      const chunks = await db("blob_chunks").where({ sha256 }).count({ n: "*" }).first();
      return Number(chunks?.n) === Math.ceil(size / CHUNK);
    },
    async delete(sha256) {
      await db("blob_chunks").where({ sha256 }).delete();
    },
    // the chunks live and go with their rows: nothing here is unreferenced
    async *list() {},
  };
}
