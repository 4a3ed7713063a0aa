// Protocol rules of the exchange that every transport applies the same way: which status may follow
// which between a sender and one recipient, who sends which status, and what a revoke / update /
// replace acts on (edxml.md §2.4, §3.3, §4; QĐ 28/2018).
import { formatTimestamp } from "./build.ts";
import { STATUS_CODES, type Bussiness, type StatusCode } from "./model.ts";

// The processing flow between a sender and one recipient (QĐ 28/2018; edxml.md §3.3): which status
// may follow which. Codes 01–06, 15 and 16 come from the recipient, 13 from the sender.
export const SENDER_CODES: readonly string[] = ["13"];
export const RECIPIENT_CODES: readonly string[] = ["01", "02", "03", "04", "05", "06", "15", "16"];

/** A status of the flow: its code and, when known, its signed Timestamp as an instant (ISO 8601). */
export interface FlowStatus {
  code: string;
  /** null for a status recorded before timestamps were kept: it is not compared. */
  timestamp?: string | null;
}

/**
 * Why `next` cannot follow `previous` (every status exchanged between the pair, oldest first), or
 * null when it may. 02 (refused) ends the flow; 04–06 need 03 first; 15/16 answer an open 13.
 * By their signed timestamps: no party's status is older than its own latest one (the state it
 * would change), and a take-back exchange alternates in time: a 13 is not older than the answer
 * to the one before, a 15/16 not older than the open 13 it answers. Timestamps are to the second,
 * so a step signed in the same second as the one before it counts as later.
 */
export function statusProblem(previous: readonly FlowStatus[], next: FlowStatus): string | null {
  const code = next.code;
  if (!(code in STATUS_CODES)) return `unknown status code "${code}"; the codes are ${Object.keys(STATUS_CODES).join(", ")}`;
  const name = `${code} (${STATUS_CODES[code as StatusCode]})`;
  const codes = previous.map((s) => s.code);
  const has = (c: string) => codes.includes(c);
  const last13 = codes.lastIndexOf("13");
  const answer13 = codes.slice(last13 + 1).findIndex((c) => c === "15" || c === "16");
  const openTakeBack = last13 >= 0 && answer13 < 0;
  if (has("02")) return `the recipient already refused the document (02); ${name} cannot follow`;
  if (codes.slice(last13 + 1).includes("15")) return `the document was taken back (15); ${name} cannot follow`;
  const problem = codeProblem(code, name, has, openTakeBack);
  if (problem || !next.timestamp) return problem;

  const t = Date.parse(next.timestamp);
  const vn = (iso: string) => formatTimestamp(new Date(iso));
  const newer = (s: FlowStatus | undefined): s is FlowStatus => !!s?.timestamp && Date.parse(s.timestamp) > t;
  const shown = (s: FlowStatus) => `${s.code} (signed ${vn(s.timestamp!)})`;
  const self = `${name}, signed ${vn(next.timestamp)},`;
  const party = statusSender(code);
  const own = previous.filter((s) => statusSender(s.code) === party && newer(s)).at(-1);
  if (own) return `${self} is older than ${shown(own)}, which it would follow`;
  const open13 = openTakeBack ? previous[last13] : undefined;
  if ((code === "15" || code === "16") && newer(open13)) return `${self} is older than the open take-back request ${shown(open13)}, so it does not answer it`;
  const lastAnswer = answer13 >= 0 ? previous[last13 + 1 + answer13] : undefined;
  if (code === "13" && last13 >= 0 && newer(lastAnswer)) return `${self} is older than ${shown(lastAnswer)}, the answer to the previous take-back request`;
  return null;
}

/** The order of the codes alone. */
function codeProblem(code: string, name: string, has: (c: string) => boolean, openTakeBack: boolean): string | null {
  switch (code) {
    case "01":
      return RECIPIENT_CODES.some(has) ? `${name} is only the first status of a recipient` : null;
    case "02":
      return has("03") ? `the document was already accepted (03); it cannot be refused now` : null;
    case "03":
      return has("03") ? `the document was already accepted (03)` : null;
    case "04":
    case "05":
    case "06":
      return !has("03") ? `${name} needs the document accepted (03) first` : has("06") ? `the document is already done (06)` : null;
    case "13":
      return openTakeBack ? "a take-back request (13) is already waiting for an answer" : null;
    case "15":
    case "16":
      return openTakeBack ? null : `${name} answers a take-back request (13), and none is open`;
  }
  return null;
}

/** Which party of a document sends `code`: its sender (13) or one of its recipients; null if unknown. */
export function statusSender(code: string): "sender" | "recipient" | null {
  return SENDER_CODES.includes(code) ? "sender" : RECIPIENT_CODES.includes(code) ? "recipient" : null;
}

type BusinessState = "revoked" | "updated" | "replaced";

export interface BusinessTarget {
  /** The earlier document the packet acts on. */
  documentId: string;
  state: BusinessState;
}

const STATE_OF: Record<1 | 2 | 3, BusinessState> = { 1: "revoked", 2: "updated", 3: "replaced" };

/**
 * The earlier documents a revoke (1), update (2) or replace (3) acts on; none for a new document (0).
 * Types 1 and 2 name the document in Bussiness/DocumentId (edxml.md §2.4). A replacement lists the
 * replaced documents in ReplacementInfoList/ReplacementInfo/DocumentId (§2.4, the VPCP sample
 * `edoc_replacement.edxml`); Bussiness/DocumentId, when a sender fills it as well, names a replaced
 * document too, so it is counted rather than ignored. Order: ReplacementInfoList first, then
 * Bussiness/DocumentId; each id once, empty ids skipped.
 */
export function businessTargets(bussiness: Bussiness | undefined): BusinessTarget[] {
  const type = bussiness?.BussinessDocType;
  if (!bussiness || !type) return [];
  const ids = type === 3 ? (bussiness.ReplacementInfoList ?? []).map((r) => r.DocumentId) : [];
  ids.push(bussiness.DocumentId ?? "");
  return [...new Set(ids.filter(Boolean))].map((documentId) => ({ documentId, state: STATE_OF[type] }));
}
