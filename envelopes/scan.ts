// Streaming split of a packet into its small XML skeleton and its large attachment contents.
//
// A packet may carry a 1 GB attachment as base64 text; no DOM can hold that. The scanner walks the
// bytes once, copies everything but the text of /edXML/AttachmentEncoded/Attachment/
// ContentTransferEncoded into the skeleton, and puts a random marker in place of each such text,
// remembering where its bytes lie. The skeleton is then parsed strictly and canonicalised by the
// same code as any small packet; only the marked texts are digested as streams.
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { XmlError } from "./xml.ts";

/** Where a packet's bytes come from: a file on disk or bytes in memory. */
export type PacketSource = { path: string } | { bytes: Buffer };

/** One attachment's base64 text, elided from the skeleton. Offsets are byte offsets in the source. */
export interface ContentRegion {
  marker: string;
  start: number;
  end: number;
}

export interface ScannedPacket {
  skeleton: string;
  regions: ContentRegion[];
  size: number;
}

const CONTENT_PATH = ["edXML", "AttachmentEncoded", "Attachment", "ContentTransferEncoded"];
const LT = 0x3c;
const GT = 0x3e;

export interface ScanLimits {
  /** Bytes of XML outside attachment contents (headers, manifest, signature). */
  maxSkeletonBytes: number;
  maxAttachments: number;
}
const DEFAULT_SCAN_LIMITS: ScanLimits = { maxSkeletonBytes: 16 * 1024 * 1024, maxAttachments: 1000 };

export async function scanPacket(source: PacketSource, limits: ScanLimits = DEFAULT_SCAN_LIMITS): Promise<ScannedPacket> {
  const nonce = randomBytes(12).toString("hex");
  const parts: Buffer[] = [];
  let skeletonBytes = 0;
  const regions: ContentRegion[] = [];
  const stack: string[] = [];
  let win: Buffer = Buffer.alloc(0); // bytes not yet consumed
  let winAbs = 0; // absolute offset of win[0]
  let pos = 0; // cursor in win
  let committed = 0; // win[0, committed) already copied to the skeleton
  let region: ContentRegion | null = null;

  const commit = (upTo: number) => {
    if (upTo > committed) {
      skeletonBytes += upTo - committed;
      if (skeletonBytes > limits.maxSkeletonBytes) {
        throw new XmlError(`the packet's XML outside attachments exceeds ${limits.maxSkeletonBytes} bytes`);
      }
      parts.push(Buffer.from(win.subarray(committed, upTo))); // a copy: the read buffer is reused
      committed = upTo;
    }
  };
  const indexOfSeq = (seq: string, from: number) => win.indexOf(seq, from, "latin1");

  // Returns false when the construct at pos is incomplete and more bytes are needed.
  const step = (): boolean => {
    if (region) {
      const lt = win.indexOf(LT, pos);
      if (lt < 0) {
        pos = win.length;
        committed = pos;
        region.end = winAbs + pos;
        return false;
      }
      region.end = winAbs + lt;
      regions.push(region);
      region = null;
      pos = committed = lt;
      return true;
    }
    if (win[pos] !== LT) {
      const lt = win.indexOf(LT, pos);
      pos = lt < 0 ? win.length : lt;
      return lt >= 0;
    }
    if (win.length - pos < 9) return false; // longest opener we must see whole: "<![CDATA["
    const opener = win.toString("latin1", pos, pos + 9);
    let close = -1;
    if (opener.startsWith("<!--")) {
      close = indexOfSeq("-->", pos + 4);
      if (close < 0) return false;
      pos = close + 3;
      return true;
    }
    if (opener.startsWith("<![CDATA[")) {
      close = indexOfSeq("]]>", pos + 9);
      if (close < 0) return false;
      pos = close + 3;
      return true;
    }
    if (opener.startsWith("<!")) throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
    if (opener.startsWith("<?")) {
      close = indexOfSeq("?>", pos + 2);
      if (close < 0) return false;
      pos = close + 2;
      return true;
    }
    // a start or end tag: find the '>' that is not inside a quoted attribute value
    let quote = 0;
    for (let i = pos + 1; i < win.length; i++) {
      const c = win[i];
      if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === GT) {
        close = i;
        break;
      }
    }
    if (close < 0) return false;
    const tag = win.toString("utf8", pos + 1, close);
    pos = close + 1;
    if (tag.startsWith("/")) {
      stack.pop();
      return true;
    }
    const name = /^[^\s/>]+/.exec(tag)?.[0] ?? "";
    if (tag.endsWith("/")) return true;
    stack.push(name.slice(name.indexOf(":") + 1));
    if (stack.length === CONTENT_PATH.length && stack.every((s, i) => s === CONTENT_PATH[i])) {
      if (regions.length >= limits.maxAttachments) {
        throw new XmlError(`more than ${limits.maxAttachments} attachments`);
      }
      commit(pos);
      const marker = `edxml-elided-${nonce}-${regions.length + 1}`;
      parts.push(Buffer.from(marker, "latin1"));
      region = { marker, start: winAbs + pos, end: winAbs + pos };
    }
    return true;
  };

  const feed = (chunk: Buffer) => {
    if (region && pos === win.length) {
      win = chunk;
      winAbs += pos;
      pos = committed = 0;
    } else {
      commit(pos);
      const rest = win.subarray(pos);
      winAbs += pos;
      win = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      pos = committed = 0;
    }
    while (pos < win.length && step());
    if (!region) commit(pos);
    if (pos < win.length) {
      // an unfinished construct waits for the next chunk: keep a copy, the read buffer is reused
      winAbs += pos;
      win = Buffer.from(win.subarray(pos));
      pos = committed = 0;
    }
  };

  let size = 0;
  for await (const chunk of readSource(source)) {
    size += chunk.length;
    feed(chunk);
  }
  if (region) throw new XmlError("the packet ends inside an attachment");
  if (pos < win.length) {
    commit(win.length); // an unfinished construct: the strict parse will say what is wrong
  }
  return { skeleton: Buffer.concat(parts).toString("utf8"), regions, size };
}

const CHUNK = 1 << 20;

/**
 * The source's bytes in chunks, optionally only [start, end). A file is read into two reused
 * buffers, the next chunk being read while the caller works on this one, so memory stays flat
 * whatever the size: a chunk is valid only until the next is asked for.
 */
export async function* readSource(source: PacketSource, start = 0, end?: number): AsyncGenerator<Buffer> {
  if ("bytes" in source) {
    const bytes = source.bytes.subarray(start, end ?? source.bytes.length);
    for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK);
    return;
  }
  const fh = await open(source.path, "r");
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let pos = start;
  const read = (buf: Buffer) => {
    const want = end === undefined ? CHUNK : Math.max(0, Math.min(CHUNK, end - pos));
    const at = pos;
    pos += want;
    return want ? fh.read(buf, 0, want, at).then((r) => buf.subarray(0, r.bytesRead)) : Promise.resolve(buf.subarray(0, 0));
  };
  let next = read(buffers[0]);
  next.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
  try {
    for (let i = 1; ; i++) {
      const chunk = await next;
      if (chunk.length === 0) break;
      next = read(buffers[i % 2]);
      next.catch(() => {});
      yield chunk;
    }
  } finally {
    await next.catch(() => {});
    await fh.close();
  }
}

const NOT_BASE64 = /[^A-Za-z0-9+/=\t\n ]/;

/**
 * The attachment text of a region exactly as an XML parser and C14N see it: CR and CRLF become LF,
 * and anything that parsing or C14N would rewrite (`&`, `>`) is refused, so the streamed bytes and
 * the canonical text are the same bytes. Only native scans here (this is the digest's hot path);
 * the base64 alphabet is checked where the text is decoded (regionBytes).
 */
export async function* regionText(source: PacketSource, region: ContentRegion): AsyncGenerator<Buffer> {
  let pendingCR = false;
  for await (const raw of readSource(source, region.start, region.end)) {
    let chunk = raw;
    if (pendingCR) {
      pendingCR = false;
      if (chunk[0] === 0x0a) chunk = chunk.subarray(1);
    }
    if (chunk.indexOf(0x0d) >= 0) {
      let text = chunk.toString("latin1").replace(/\r\n/g, "\n");
      if (text.endsWith("\r")) {
        pendingCR = true;
      }
      text = text.replace(/\r/g, "\n");
      chunk = Buffer.from(text, "latin1");
    }
    if (chunk.indexOf(0x26) >= 0 || chunk.indexOf(0x3e) >= 0) {
      throw new XmlError("an attachment's content is not plain base64 text");
    }
    yield chunk;
  }
}

/** The decoded bytes of an attachment, streamed; anything but base64 is refused. */
export async function* regionBytes(source: PacketSource, region: ContentRegion): AsyncGenerator<Buffer> {
  let carry = "";
  for await (const chunk of regionText(source, region)) {
    // in 64 KiB slices, so that each string dies young and memory stays flat
    for (let i = 0; i < chunk.length; i += 1 << 16) {
      const slice = chunk.toString("latin1", i, Math.min(chunk.length, i + (1 << 16)));
      if (NOT_BASE64.test(slice)) throw new XmlError("an attachment's content is not plain base64 text");
      const text = carry + slice.replace(/\s+/g, "");
      const whole = text.length - (text.length % 4);
      carry = text.slice(whole);
      if (whole) yield Buffer.from(text.slice(0, whole), "base64");
    }
  }
  if (carry.length) throw new XmlError("an attachment's base64 content is truncated");
}
