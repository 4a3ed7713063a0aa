// Where a blob's bytes live (EDOC_BLOB_STORE), keyed by their SHA-256: the database (default,
// blobs.ts), a directory, or an S3-compatible object store. The `blobs` rows (hash, size) stay in
// the database whatever the store, so records and foreign keys do not change; only the bytes move.
// Crash safety: a store other than the database holds a blob durably before the transaction that
// references it commits (storeBlobs); a crash between the two leaves an object no row references,
// which the sweep deletes once it is older than a grace period. A referenced object is never deleted.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createRequire } from "node:module";
import type * as ClientS3 from "@aws-sdk/client-s3";
import type * as LibStorage from "@aws-sdk/lib-storage";
import type { Knex } from "knex";
import { databaseStore, type BlobStore } from "./blobs.ts";
import type { Db } from "./handle.ts";

/** EDOC_BLOB_STORE, read: the database, a directory, or a bucket with a key prefix. */
export type BlobStoreSpec =
  | { kind: "db" }
  | { kind: "fs"; dir: string }
  | { kind: "s3"; bucket: string; prefix: string; endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean };

export function openBlobStore(spec: BlobStoreSpec, db: Knex): BlobStore {
  if (spec.kind === "fs") return fileStore(spec.dir);
  if (spec.kind === "s3") return s3Store(spec);
  return databaseStore(db);
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The code of a blob store's "cannot be reached now" (its own, so that it is never taken for the database's). */
const BLOB_STORE_UNAVAILABLE = "BLOB_STORE_UNAVAILABLE";

/** True when `err` says a blob store cannot be reached now (a network failure, or the store's 5xx). */
export function isBlobStoreUnavailable(err: unknown): err is Error & { store: string } {
  return (err as { code?: unknown } | null)?.code === BLOB_STORE_UNAVAILABLE;
}

/** An S3 client's failure: its answer of 4xx as it is (not found, refused), anything else as the store unavailable. */
function s3Failure(store: string, err: unknown): unknown {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (status !== undefined && status < 500) return err;
  return Object.assign(new Error(`the blob store (${store}) cannot be reached: ${(err as Error)?.message ?? String(err)}`, { cause: err }), { code: BLOB_STORE_UNAVAILABLE, store });
}

/** Counts the bytes as they pass and fails at the end (or on one too many) unless they are `size`. */
async function* sized(sha256: string, size: number, source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let got = 0;
  for await (const chunk of source) {
    got += chunk.length;
    if (got > size) break;
    yield chunk;
  }
  if (got !== size) throw new Error(`blob ${sha256} has ${got > size ? "more" : got} bytes in the store, not ${size}`);
}

/**
 * A directory: each blob in `ab/cd/<sha256>`, owner-only. Written to a temporary file beside its
 * place, fsynced, renamed over it and the directory fsynced: a crash leaves the whole blob or a
 * temporary file (swept later), never a part under the blob's name.
 */
function fileStore(dir: string): BlobStore {
  const at = (sha256: string) => join(dir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  const fsyncDir = async (path: string) => {
    const h = await open(path, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  };
  return {
    kind: "fs",
    name: `fs:${dir}`,
    async put(blob) {
      const path = at(blob.sha256);
      const existing = await stat(path).catch(() => null);
      if (existing?.size === blob.size) {
        // written earlier (perhaps by a write that then failed): fresh again, so the sweep's grace covers this reference too
        const now = new Date();
        return utimes(path, now, now);
      }
      const made = await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temp = join(dirname(path), `.${blob.sha256}.${randomBytes(6).toString("hex")}.tmp`);
      const h = await open(temp, "wx", 0o600);
      try {
        for await (const chunk of blob.chunks()) await h.write(chunk);
        await h.sync();
      } catch (err) {
        await h.close();
        await rm(temp, { force: true });
        throw err;
      }
      await h.close();
      await rename(temp, path);
      await fsyncDir(dirname(path));
      // directories made for it are durable in their parents too
      for (let d = dirname(dirname(path)); made; d = dirname(d)) {
        await fsyncDir(d);
        if (d === dirname(made)) break;
      }
    },
    get(sha256, size) {
      return sized(sha256, size, createReadStream(at(sha256), { highWaterMark: 1 << 20 }));
    },
    async has(sha256) {
      return (await stat(at(sha256)).catch(() => null)) !== null;
    },
    async delete(sha256) {
      await rm(at(sha256), { force: true });
    },
    async *list() {
      for (const a of await readdir(dir).catch(() => [])) {
        for (const b of await readdir(join(dir, a)).catch(() => [])) {
          for (const name of await readdir(join(dir, a, b)).catch(() => [])) {
            const path = join(dir, a, b, name);
            const s = await stat(path).catch(() => null);
            if (s?.isFile()) yield { sha256: SHA256.test(name) ? name : null, at: s.mtime, remove: () => rm(path, { force: true }) };
          }
        }
      }
    },
  };
}

/** Upload parts: 8 MiB, 4 at a time — 32 MiB in flight whatever the blob's size. */
const PART = 8 << 20;
const PARTS_IN_FLIGHT = 4;

/** An S3-compatible bucket: each blob under `<prefix>/<sha256>`, uploaded in parts, read as a stream. */
function s3Store(spec: Extract<BlobStoreSpec, { kind: "s3" }>): BlobStore {
  // the AWS SDK is loaded only by a node whose store is S3 (it is large, and warns on Node 20)
  const require = createRequire(import.meta.url);
  const { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } = require("@aws-sdk/client-s3") as typeof ClientS3;
  const { Upload } = require("@aws-sdk/lib-storage") as typeof LibStorage;
  const client = new S3Client({
    endpoint: spec.endpoint,
    region: spec.region ?? "us-east-1",
    forcePathStyle: spec.forcePathStyle,
    ...(spec.accessKeyId && spec.secretAccessKey ? { credentials: { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey } } : {}),
    // checksums only where S3 requires them: s3rver (and some other servers) mangle streamed bodies with them
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const prefix = spec.prefix ? `${spec.prefix.replace(/\/+$/, "")}/` : "";
  const Bucket = spec.bucket;
  const key = (sha256: string) => `${prefix}${sha256}`;
  const name = `s3://${spec.bucket}/${spec.prefix}`;
  const send: typeof client.send = ((command: Parameters<typeof client.send>[0]) =>
    client.send(command).catch((err: unknown) => Promise.reject(s3Failure(name, err)))) as typeof client.send;
  return {
    kind: "s3",
    name,
    async put(blob) {
      // always uploaded, even when present: its last write is then fresh for the sweep's grace
      await new Upload({
        client,
        params: { Bucket, Key: key(blob.sha256), Body: Readable.from(blob.chunks()), ContentLength: blob.size },
        partSize: PART,
        queueSize: PARTS_IN_FLIGHT,
      }).done();
    },
    async *get(sha256, size) {
      const res = await send(new GetObjectCommand({ Bucket, Key: key(sha256) }));
      try {
        yield* sized(sha256, size, res.Body as Readable);
      } catch (err) {
        // the body cut off on the way (a short body is this store's own failure, as it is)
        throw (err as { code?: unknown }).code ? s3Failure(name, err) : err;
      }
    },
    async has(sha256) {
      try {
        await send(new HeadObjectCommand({ Bucket, Key: key(sha256) }));
        return true;
      } catch (err) {
        if ((err as { name?: string }).name === "NotFound" || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw err;
      }
    },
    async delete(sha256) {
      await send(new DeleteObjectCommand({ Bucket, Key: key(sha256) }));
    },
    async *list() {
      let ContinuationToken: string | undefined;
      do {
        const page = await send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
        for (const o of page.Contents ?? []) {
          const name = o.Key!.slice(prefix.length);
          yield { sha256: SHA256.test(name) ? name : null, at: o.LastModified ?? new Date(0), remove: () => send(new DeleteObjectCommand({ Bucket, Key: o.Key! })).then(() => {}) };
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },
  };
}

/**
 * Deletes the store's objects that no `blobs` row references and that were last written more than
 * `graceMs` ago (a write in progress puts its bytes first and its row at its commit: the grace
 * must exceed the longest upload). Returns how many it deleted.
 */
export async function sweepBlobs(db: Db, store: BlobStore, graceMs: number, now = new Date()): Promise<number> {
  let deleted = 0;
  for await (const o of store.list()) {
    if (now.getTime() - o.at.getTime() < graceMs) continue;
    if (o.sha256 && (await db("blobs").where({ sha256: o.sha256 }).first("sha256"))) continue;
    await o.remove();
    deleted++;
  }
  return deleted;
}

/**
 * Copies every blob of `from` that `to` does not hold whole to `to`, and reads each back from `to`
 * to check its SHA-256 (a blob `to` already holds is checked the same way, so a run cut short
 * resumes where it stopped, and a second run after the node stopped proves every blob). Blobs are
 * taken in hash order, one at a time (flat memory); `progress` hears each. Stops at the first blob
 * that does not come back as it went.
 */
export async function migrateBlobs(
  db: Db,
  from: BlobStore,
  to: BlobStore,
  progress: (p: { sha256: string; size: number; copied: boolean; done: number; total: number }) => void = () => {},
): Promise<{ copied: number; checked: number; bytes: number }> {
  if (to.kind === "db") throw new Error("the database store is filled by the node itself: migrate to fs:/… or s3://…");
  const total = Number((await db("blobs").count({ n: "*" }).first())?.n ?? 0);
  let copied = 0;
  let checked = 0;
  let bytes = 0;
  let after = "";
  for (;;) {
    const rows: Array<{ sha256: string; size: number | string }> = await db("blobs").where("sha256", ">", after).orderBy("sha256").limit(500).select("sha256", "size");
    if (!rows.length) break;
    for (const r of rows) {
      const size = Number(r.size);
      const whole = (await to.has(r.sha256)) && (await hashOf(to, r.sha256, size).catch(() => null)) === r.sha256;
      if (!whole) {
        await to.put({ sha256: r.sha256, size, chunks: () => from.get(r.sha256, size) });
        const back = await hashOf(to, r.sha256, size);
        if (back !== r.sha256) throw new Error(`blob ${r.sha256} came back from ${to.name} as ${back}: nothing more was copied`);
        copied++;
        bytes += size;
      }
      checked++;
      progress({ sha256: r.sha256, size, copied: !whole, done: checked, total });
    }
    after = rows[rows.length - 1].sha256;
  }
  return { copied, checked, bytes };
}

async function hashOf(store: BlobStore, sha256: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  for await (const c of store.get(sha256, size)) hash.update(c);
  return hash.digest("hex");
}
