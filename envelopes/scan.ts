// Streaming split of a packet into its small XML skeleton and its large attachment contents.
//
// A packet may carry a 1 GB attachment as base64 text; no DOM can hold that. The scanner walks the
// bytes once, copies everything but the text of /edXML/AttachmentEncoded/Attachment/
// ContentTransferEncoded into the skeleton, and puts a random marker in place of each such text,
// remembering where its bytes lie. The skeleton is then parsed strictly and canonicalised by the
// same code as any small packet; only the marked texts are digested as streams.
import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import { MAX_DEPTH, MAX_ELEMENTS, XmlError } from "./xml.ts";

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
/** One start tag with its attributes, and attributes on one element: far beyond any edXML element. */
const MAX_TAG_BYTES = 1 << 20;
const MAX_ATTRIBUTES = 256;

/** A packet over one of the scan's size limits (the inbound door answers 413, not 400). */
export class ScanLimitError extends XmlError {
  override name = "ScanLimitError";
}

/**
 * The scan, fed chunk by chunk (a file being read, or a request body as it arrives). Every
 * construct is bounded as it is read: comments, CDATA, processing instructions and text go to the
 * skeleton, and count against its limit, as their bytes come; only a start or end tag (at most
 * MAX_TAG_BYTES) or a few bytes of an opener are held back, and each byte is looked at once.
 */
export interface PacketScanner {
  /** Throws XmlError (ScanLimitError for a size limit) as soon as the bytes so far are refused. */
  feed(chunk: Buffer): void;
  end(): ScannedPacket;
}

type Mode = "markup" | "tag" | "comment" | "cdata" | "pi" | "content";
const TERMINATOR = { comment: "-->", cdata: "]]>", pi: "?>" } as const;

const tooLarge = (message: string): never => {
  throw new ScanLimitError(message);
};

/** `keep: false` only checks (a guard at the door): the skeleton's bytes are counted, not kept. */
export function packetScanner(limits: ScanLimits = DEFAULT_SCAN_LIMITS, { keep = true } = {}): PacketScanner {
  return new Scanner(limits, keep);
}

/**
 * The scan's state and steps: a class, so that its hot methods are the same functions for every
 * packet scanned (closures made per packet were optimized again after each full GC: V8 holds
 * optimized code weakly).
 */
class Scanner implements PacketScanner {
  private readonly nonce = randomUUID().replace(/-/g, ""); // 122 random bits; randomUUID draws from a batch: cheaper than randomBytes
  private readonly parts: Buffer[] = [];
  private skeletonBytes = 0;
  private readonly regions: ContentRegion[] = [];
  private depth = 0; // open elements
  private matched = 0; // how many of the outermost open elements are those of CONTENT_PATH
  private kept: Buffer = Buffer.alloc(0); // bytes of an unfinished construct, copied from the last chunk
  private resume = 0; // where scanning resumes in `kept`
  private size = 0;
  private win: Buffer = this.kept; // kept + the current chunk
  private winAbs = 0; // absolute offset of win[0]
  private pos = 0; // next byte of win to look at
  private committed = 0; // win[0, committed) already copied to the skeleton (or elided)
  private mode: Mode = "markup";
  private tagStart = 0; // in "tag" mode: where its '<' is in win
  private quote = 0; // in "tag" mode: the quote of the attribute value being read, or 0
  private attributes = 0;
  private elements = 0;
  private region: ContentRegion | null = null;

  constructor(
    private readonly limits: ScanLimits,
    private readonly keep: boolean,
  ) {}

  feed(chunk: Buffer): void {
    const kept = this.kept;
    this.win = kept.length ? Buffer.concat([kept, chunk]) : chunk;
    this.winAbs = this.size - kept.length;
    this.size += chunk.length;
    this.pos = this.resume;
    this.committed = 0;
    while (this.pos < this.win.length && this.step());
    // what waits for the next chunk: a tag from its '<', an opener, the tail of a terminator
    const held = this.mode === "tag" ? this.tagStart : this.mode === "content" ? this.win.length : this.pos;
    this.commit(held);
    this.resume = this.pos - held;
    if (this.mode === "tag") this.tagStart = 0;
    this.kept = Buffer.from(this.win.subarray(held)); // a copy: the read buffer is reused
  }

  end(): ScannedPacket {
    if (this.region) throw new XmlError("the packet ends inside an attachment");
    // an unfinished construct: the strict parse will say what is wrong
    [this.win, this.committed] = [this.kept, 0];
    this.commit(this.kept.length);
    return { skeleton: Buffer.concat(this.parts).toString("utf8"), regions: this.regions, size: this.size };
  }

  private commit(upTo: number): void {
    if (upTo > this.committed) {
      this.skeletonBytes += upTo - this.committed;
      if (this.skeletonBytes > this.limits.maxSkeletonBytes) tooLarge(`the packet's XML outside attachments exceeds ${this.limits.maxSkeletonBytes} bytes`);
      if (this.keep) this.parts.push(Buffer.from(this.win.subarray(this.committed, upTo))); // a copy: the read buffer is reused
      this.committed = upTo;
    }
  }

  // a start or end tag: the '>' that is not inside a quoted attribute value, each byte seen once
  private tag(): boolean {
    let close = -1;
    for (let i = this.pos; i < this.win.length; i++) {
      if (this.quote) {
        const q = this.win.indexOf(this.quote, i);
        if (q < 0) break;
        this.quote = 0;
        i = q;
        continue;
      }
      const c = this.win[i];
      if (c === 0x22 || c === 0x27) this.quote = c;
      else if (c === 0x3d && ++this.attributes > MAX_ATTRIBUTES) tooLarge(`an element has more than ${MAX_ATTRIBUTES} attributes`);
      else if (c === GT) {
        close = i;
        break;
      }
    }
    const end = close < 0 ? this.win.length : close;
    if (end - this.tagStart > MAX_TAG_BYTES) tooLarge(`a tag of the packet is longer than ${MAX_TAG_BYTES} bytes`);
    if (close < 0) {
      this.pos = this.win.length;
      return false;
    }
    this.mode = "markup";
    this.pos = close + 1;
    // read from the bytes: a string for each tag cost a third of the scan
    if (this.win[this.tagStart + 1] === 0x2f /* / */) {
      if (this.depth) {
        if (this.depth === this.matched) this.matched--;
        this.depth--;
      }
      return true;
    }
    // counted as they stream, as the parser counts them: a flood is refused at its 100,001st element
    if (++this.elements > MAX_ELEMENTS) throw new XmlError(`more than ${MAX_ELEMENTS} elements`);
    if (this.win[close - 1] === 0x2f) return true;
    // the open elements are counted, so they are capped as the parser caps them
    if (++this.depth > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH} levels`);
    // the local name (after the prefix), compared with the content path while all above match it
    if (this.matched === this.depth - 1 && this.depth <= CONTENT_PATH.length) {
      const name = this.tagStart + 1;
      let end = name;
      let local = name;
      for (let c = this.win[end]; end < close && c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x2f; c = this.win[++end]) {
        if (c === 0x3a /* : */ && local === name) local = end + 1;
      }
      const want = CONTENT_PATH[this.depth - 1];
      if (end - local === want.length && this.win.toString("latin1", local, end) === want) this.matched = this.depth;
    }
    if (this.matched === CONTENT_PATH.length && this.depth === this.matched) {
      if (this.regions.length >= this.limits.maxAttachments) tooLarge(`more than ${this.limits.maxAttachments} attachments`);
      this.commit(this.pos);
      const marker = `edxml-elided-${this.nonce}-${this.regions.length + 1}`;
      this.parts.push(Buffer.from(marker, "latin1"));
      this.region = { marker, start: this.winAbs + this.pos, end: this.winAbs + this.pos };
      this.mode = "content";
    }
    return true;
  }

  // Returns false when the construct at pos needs more bytes.
  private step(): boolean {
    if (this.mode === "content") {
      const lt = this.win.indexOf(LT, this.pos);
      this.pos = this.committed = lt < 0 ? this.win.length : lt;
      this.region!.end = this.winAbs + this.pos;
      if (lt < 0) return false;
      this.regions.push(this.region!);
      this.region = null;
      this.mode = "markup";
      return true;
    }
    if (this.mode === "tag") return this.tag();
    if (this.mode !== "markup") {
      const seq = TERMINATOR[this.mode];
      const close = this.win.indexOf(seq, this.pos, "latin1");
      if (close < 0) {
        // only what could begin the terminator waits for the next chunk; the rest is skeleton now
        this.pos = Math.max(this.pos, this.win.length - (seq.length - 1));
        return false;
      }
      this.pos = close + seq.length;
      this.mode = "markup";
      return true;
    }
    if (this.win[this.pos] !== LT) {
      const lt = this.win.indexOf(LT, this.pos);
      this.pos = lt < 0 ? this.win.length : lt;
      return lt >= 0;
    }
    if (this.win.length - this.pos < 9) return false; // longest opener we must see whole: "<![CDATA["
    const next = this.win[this.pos + 1];
    if (next === 0x21 /* ! */) {
      const opener = this.win.toString("latin1", this.pos, this.pos + 9);
      if (opener.startsWith("<!--")) [this.mode, this.pos] = ["comment", this.pos + 4];
      else if (opener.startsWith("<![CDATA[")) [this.mode, this.pos] = ["cdata", this.pos + 9];
      else throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
    } else if (next === 0x3f /* ? */) [this.mode, this.pos] = ["pi", this.pos + 2];
    else [this.mode, this.tagStart, this.pos, this.quote, this.attributes] = ["tag", this.pos, this.pos + 1, 0, 0];
    return true;
  }
}

export async function scanPacket(source: PacketSource, limits: ScanLimits = DEFAULT_SCAN_LIMITS): Promise<ScannedPacket> {
  const scanner = packetScanner(limits);
  for await (const chunk of readSource(source)) scanner.feed(chunk);
  return scanner.end();
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

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Byte → its 6-bit base64 value, or -1. */
const SEXTET = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;
const [TAB, LF, SPACE, EQUALS] = [0x09, 0x0a, 0x20, 0x3d];

const notBase64 = (why: string): never => {
  throw new XmlError(`an attachment's content is not plain base64 text: ${why}`);
};

function count(chunk: Buffer, byte: number): number {
  let n = 0;
  for (let i = chunk.indexOf(byte); i >= 0; i = chunk.indexOf(byte, i + 1)) n++;
  return n;
}

const SLICE = 1 << 16;

/** How many bytes Node's decoder writes for n base64 characters (no padding). */
const decodedLength = (n: number) => Math.floor(n / 4) * 3 + [0, 0, 1, 2][n % 4];

/**
 * Canonical base64 (RFC 4648 §4: its alphabet, '=' padding only at the very end, zero pad bits),
 * checked as the text streams; line breaks, tabs and spaces between characters are tolerated, as
 * XML readers of base64 do. Anything else would let decoders disagree about the file the
 * signature covers (Node stops at the first '=', others carry on; Node skips bytes others refuse).
 */
function canonicalBase64(): { take(chunk: Buffer): void; end(): void } {
  let chars = 0; // alphabet characters so far
  let pads = 0;
  let last = -1; // the last alphabet character
  const scratch = Buffer.allocUnsafe(decodedLength(SLICE + 1));
  // Byte by byte: for a chunk the fast check could not clear (its end, with the padding).
  const exact = (chunk: Buffer) => {
    for (const c of chunk) {
      if (c === LF || c === TAB || c === SPACE) continue;
      if (c === EQUALS) {
        if (++pads > 2) notBase64("more than two '=' at its end");
      } else if (SEXTET[c] < 0) notBase64(`byte 0x${c.toString(16).padStart(2, "0")} is not in the base64 alphabet`);
      else if (pads) notBase64("'=' padding inside the text, not only at its end");
      else [chars, last] = [chars + 1, c];
    }
  };
  const slice = (whole: Buffer) => {
    // the padding, at the very end, is checked byte by byte; what comes before it at native speed
    const eq = pads ? 0 : whole.indexOf(EQUALS);
    if (eq > 0) {
      slice(whole.subarray(0, eq));
      return exact(whole.subarray(eq));
    }
    const chunk = whole;
    const n = chunk.length - count(chunk, LF) - count(chunk, TAB) - count(chunk, SPACE);
    if (n === 0) return;
    // Native speed for the common case: Node's decoder skips bytes outside its alphabet (ours
    // plus '-' and '_') and stops at '=', so it writes all n characters' bytes only when each is
    // one of ours. One 'A' more makes a skipped n-th character visible when n % 4 is 1.
    if (!pads && chunk.indexOf(0x2d) < 0 && chunk.indexOf(0x5f) < 0) {
      const m = n % 4 === 1 ? n + 1 : n;
      const text = chunk.toString("latin1");
      if (scratch.write(m === n ? text : text + "A", 0, "base64") === decodedLength(m)) {
        chars += n;
        let i = chunk.length - 1;
        while (chunk[i] === LF || chunk[i] === TAB || chunk[i] === SPACE) i--;
        last = chunk[i];
        return;
      }
    }
    exact(chunk);
  };
  return {
    // in 64 KiB slices, so that each string dies young and memory stays flat
    take(chunk) {
      for (let i = 0; i < chunk.length; i += SLICE) slice(chunk.subarray(i, i + SLICE));
    },
    end() {
      if ((chars + pads) % 4 !== 0) throw new XmlError("an attachment's base64 content is truncated");
      if (pads && SEXTET[last] & (pads === 1 ? 0b11 : 0b1111)) notBase64("non-zero bits in its padding");
    },
  };
}

/**
 * The attachment text of a region exactly as an XML parser and C14N see it: CR and CRLF become LF,
 * and it must be canonical base64 (canonicalBase64), so that nothing parsing or C14N would rewrite
 * (`&`, `>`) gets through and every decoder reads the same file from the digested bytes. This is
 * the digest's hot path: native scans and the native decoder only, unless something is wrong.
 */
export async function* regionText(source: PacketSource, region: ContentRegion): AsyncGenerator<Buffer> {
  let pendingCR = false;
  const check = canonicalBase64();
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
    check.take(chunk);
    yield chunk;
  }
  check.end();
}

/** The decoded bytes of an attachment, streamed (regionText has checked the base64). */
export async function* regionBytes(source: PacketSource, region: ContentRegion): AsyncGenerator<Buffer> {
  let carry = "";
  for await (const chunk of regionText(source, region)) {
    for (let i = 0; i < chunk.length; i += SLICE) {
      const text = carry + chunk.toString("latin1", i, Math.min(chunk.length, i + SLICE)).replace(/\s+/g, "");
      const whole = text.length - (text.length % 4);
      carry = text.slice(whole);
      if (whole) yield Buffer.from(text.slice(0, whole), "base64");
    }
  }
}
