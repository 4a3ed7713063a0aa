// The pure pieces of the VPCP/VNPT SDK protocol of the national document axle (Trục liên thông văn
// bản quốc gia, VDXP; ../shared/reference/edxml.md §7.2): the XroadVnpt-* headers of one call and
// their HMAC, the SDK's timestamp and its hash-file quirk. The hub simulator of the tests checks
// requests with the same functions' rules, written out again from §7.2 (test/helpers/vdxp-hub.ts).
import { createHmac } from "node:crypto";

const SDK_USER_AGENT = "JAVASDKAgent/1.0.0 XRoad/VPCP";
const SDK_VERSION = "3.0.201608";
const PREFIX = "XroadVnpt-";

/**
 * The SDK's timestamp, `ddMMyyyy'T'HHmmss+SSSS` in Vietnam time (UTC+7): day, month, year, hour,
 * minute, second, then the milliseconds on four digits after a literal "+" (Java's SimpleDateFormat).
 */
export function sdkTimestamp(at: Date): string {
  const t = new Date(at.getTime() + 7 * 3600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(t.getUTCDate())}${p(t.getUTCMonth() + 1)}${t.getUTCFullYear()}T${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}+${p(t.getUTCMilliseconds(), 4)}`;
}

/** A SHA-256 digest in hex the SDK's way: each byte by Integer.toHexString, so 0x0a is "a", not "0a". */
export function sdkHashFile(sha256: Buffer): string {
  let out = "";
  for (const b of sha256) out += b.toString(16);
  return out;
}

/** hash-header: lowercase hex HMAC-SHA256, keyed with the secret's UTF-8 bytes as written (not base64-decoded). */
export function signHeaderHmac(secret: string, signHeader: string): string {
  return createHmac("sha256", Buffer.from(secret, "utf8")).update(Buffer.from(signHeader, "utf8")).digest("hex");
}

/**
 * The HTTP headers of one call: every logical header `k` as `XroadVnpt-k` (Content-Type also as
 * itself), the names joined with ";" (sign-header-key), the compact JSON of the prefixed headers in
 * that order (sign-header) and its HMAC (hash-header), plus the SDK's User-Agent and version.
 */
export function sdkHeaders(opts: { systemId: string; secret: string; timestamp: string; contentType: string; call: Record<string, string> }): Record<string, string> {
  const logical: Record<string, string> = { systemid: opts.systemId, timestamp: opts.timestamp, "Content-Type": opts.contentType, ...opts.call };
  const names = Object.keys(logical);
  const signed: Record<string, string> = {};
  for (const k of names) signed[PREFIX + k] = logical[k];
  const signHeader = JSON.stringify(signed);
  return {
    ...signed,
    "Content-Type": opts.contentType,
    [`${PREFIX}sign-header-key`]: names.join(";"),
    [`${PREFIX}sign-header`]: signHeader,
    [`${PREFIX}hash-header`]: signHeaderHmac(opts.secret, signHeader),
    [`${PREFIX}version`]: SDK_VERSION,
    "User-Agent": SDK_USER_AGENT,
  };
}

/** The JSON answer of every call: success is status "OK" with ErrorCode "0" (or none). */
export interface HubAnswer {
  status?: string;
  ErrorCode?: string | number;
  ErrorDesc?: string;
  DocId?: string;
  data?: unknown;
}

/** Null when the answer is a success, else why not, in words. */
export function answerProblem(a: HubAnswer): string | null {
  const code = a.ErrorCode === undefined || a.ErrorCode === null ? "0" : String(a.ErrorCode);
  if (a.status === "OK" && code === "0") return null;
  const status = String(a.status ?? "-");
  const desc = String(a.ErrorDesc ?? "-");
  return `the hub answered ${status} (ErrorCode ${code}): ${desc}`;
}
