// The inbound door for other agencies' nodes: POST /edxml. No bearer token: trust comes from the
// signature, the trust anchors and the registry. The body is kept in memory when small, else
// streamed to a temporary file (never held in memory whole), and handed to the receive use case (app/receive.ts); this file only maps its
// outcome to the contract's answers.
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { Router, type Request, type Response } from "express";
import { AppError, RECIPIENT_HEADER, inboundScan, receivePacket, type AppContext } from "../app/index.ts";

const ACCEPTED_TYPES = new Set(["application/xml", "text/xml", "application/octet-stream"]);

export function inboundRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post("/edxml", async (req, res) => {
    await receive(ctx, req, res);
  });
  return router;
}

async function receive(ctx: AppContext, req: Request, res: Response): Promise<void> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type && !ACCEPTED_TYPES.has(type) && !type.endsWith("+xml")) {
    // answered before reading: the rest of the body is discarded by Node
    throw new AppError("invalid", `an edXML packet is sent as application/xml, not ${type}`);
  }
  // RFC 7303: a charset given here overrides the XML declaration for other readers; the profile is UTF-8 only
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers["content-type"] ?? "")?.[1]?.toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "utf8") {
    throw new AppError("unsupported", `an edXML packet is UTF-8: send it with charset=utf-8 or with no charset, not ${charset}`);
  }
  const limit = ctx.config.maxPacketBytes;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    res.set("Connection", "close");
    ctx.log.warn({ declared, limit, remote: req.socket.remoteAddress }, "inbound packet refused: too large");
    throw new AppError("too-large", `the packet is ${declared} bytes; this node accepts at most ${limit}`);
  }
  // (a body too large to keep in memory goes here)
  const path = join(ctx.config.dataDir, "tmp", `in-${randomUUID()}.edxml`);
  // (no file to remove once the body is known to be in memory)
  let onDisk = true;
  try {
    let body: { size: number; sha256: string; bytes?: Buffer };
    try {
      body = await receiveBody(req, path, limit, inboundScan());
    } catch (err) {
      if (err instanceof AppError && (err.kind === "too-large" || err.kind === "invalid")) {
        lingerThenClose(req, res);
        ctx.log.warn({ limit, remote: req.socket.remoteAddress, reason: err.message }, "inbound packet refused while it arrived");
      }
      throw err;
    }
    if (body.size === 0) throw new AppError("invalid", "the request has no body; send one edXML packet as application/xml");
    const recipient = req.get(RECIPIENT_HEADER)?.trim() || undefined;
    const { bytes, ...sized } = body;
    onDisk = !bytes;
    const outcome = await receivePacket(ctx, bytes ? { ...sized, bytes } : { ...sized, path }, { recipient, remote: req.socket.remoteAddress ?? null });
    switch (outcome.kind) {
      case "refused":
        if (outcome.notEdxml) throw new AppError("invalid", `the body is not an edXML packet: ${outcome.report.errors[0] ?? "unreadable"}`, outcome.report);
        res.status(422).type("application/json").send(JSON.stringify(outcome.report));
        return;
      case "receipt":
        res.status(202).type("application/xml").send(outcome.receipt);
        return;
      case "status":
        res.status(202).json(outcome.duplicate ? { accepted: true, duplicate: true } : { accepted: true });
    }
  } finally {
    if (onDisk) await rm(path, { force: true });
  }
}

/** How long a refused body's connection stays open after the answer, at most. */
const LINGER_MS = 2000;
/** Refused connections lingering at once, at most (the node's, across its agencies' doors). */
const MAX_LINGERING = 16;
const lingering = new Set<Socket>();

/**
 * Refused before the body ended: the answer goes out while the rest is read and dropped for a
 * moment (at most LINGER_MS, and at most MAX_LINGERING connections at once), then the connection
 * is cut. Closing at once ("Connection: close") resets a connection whose client is still
 * sending, and a reset can destroy the answer before the client reads it.
 */
function lingerThenClose(req: Request, res: Response): void {
  const socket = req.socket;
  res.once("finish", () => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => {
      lingering.delete(socket);
      socket.destroy();
    }, LINGER_MS);
    lingering.add(socket);
    socket.once("close", () => {
      clearTimeout(timer);
      lingering.delete(socket);
    });
    // under a flood of refused bodies each lingering connection holds buffers: the oldest go first
    for (const old of lingering) {
      if (lingering.size <= MAX_LINGERING) break;
      lingering.delete(old);
      old.destroy();
    }
    // a client that stops sending (as it should, once answered) is let go at once
    if (req.complete) socket.destroySoon();
    else req.once("end", () => socket.destroySoon());
  });
}

/** Bodies up to this size are kept in memory as they arrive (and verified from there); bigger ones go to a file. */
const IN_MEMORY_BODY = 1 << 20;

/**
 * The request body, counting, hashing and showing each chunk to `scan` as it goes: in memory up
 * to IN_MEMORY_BODY, else into `path`; a too-large AppError as soon as it passes `limit`, or what
 * `scan` throws (the file, if any, is then removed by the caller and the rest of the body discarded).
 */
function receiveBody(req: IncomingMessage, path: string, limit: number, scan: (chunk: Buffer) => void): Promise<{ size: number; sha256: string; bytes?: Buffer }> {
  return new Promise((resolve, reject) => {
    let out: WriteStream | null = null;
    let kept: Buffer[] | null = [];
    const hash = createHash("sha256");
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.resume(); // discard what is left; the response closes the connection
      // rejected once the file is closed, so that the caller's removal finds it
      if (!out) return reject(err);
      out.once("close", () => reject(err));
      out.destroy();
    };
    const toFile = (): WriteStream => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const file = createWriteStream(path, { flags: "wx" });
      file.once("error", fail);
      file.once("finish", () => {
        if (settled) return;
        settled = true;
        resolve({ size, sha256: hash.digest("hex") });
      });
      for (const k of kept!) file.write(k);
      kept = null;
      return file;
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new AppError("too-large", `the packet is larger than this node accepts (${limit} bytes)`));
      try {
        scan(chunk);
      } catch (err) {
        return fail(err as Error);
      }
      hash.update(chunk);
      if (kept && size <= IN_MEMORY_BODY) return void kept.push(chunk);
      out ??= toFile();
      if (!out.write(chunk)) {
        req.pause();
        out.once("drain", () => req.resume());
      }
    };
    req.on("data", onData);
    req.once("end", () => {
      if (settled) return;
      if (out) return void out.end();
      settled = true;
      resolve({ size, sha256: hash.digest("hex"), bytes: Buffer.concat(kept!, size) });
    });
    req.once("close", () => {
      if (!req.complete) fail(new AppError("invalid", "the request was aborted by the client"));
    });
    req.once("error", fail);
  });
}
