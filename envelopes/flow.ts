// Protocol rules of the exchange that every transport applies the same way: which status may follow
// which between a sender and one recipient, who sends which status, and what a revoke / update /
// replace acts on (edxml.md §2.4, §3.3, §4; QĐ 28/2018).
import { STATUS_CODES, type Bussiness, type StatusCode } from "./model.ts";

// The processing flow between a sender and one recipient (QĐ 28/2018; edxml.md §3.3): which status
// may follow which. Codes 01–06, 15 and 16 come from the recipient, 13 from the sender.
export const SENDER_CODES: readonly string[] = ["13"];
export const RECIPIENT_CODES: readonly string[] = ["01", "02", "03", "04", "05", "06", "15", "16"];

/**
 * Why `code` cannot follow `previous` (every code exchanged between the pair, oldest first), or
 * null when it may. 02 (refused) ends the flow; 04–06 need 03 first; 15/16 answer an open 13.
 */
export function statusProblem(previous: string[], code: string): string | null {
  if (!(code in STATUS_CODES)) return `unknown status code "${code}"; the codes are ${Object.keys(STATUS_CODES).join(", ")}`;
  const name = `${code} (${STATUS_CODES[code as StatusCode]})`;
  const has = (c: string) => previous.includes(c);
  const last13 = previous.lastIndexOf("13");
  const openTakeBack = last13 >= 0 && !previous.slice(last13 + 1).some((c) => c === "15" || c === "16");
  if (has("02")) return `the recipient already refused the document (02); ${name} cannot follow`;
  if (previous.slice(last13 + 1).includes("15")) return `the document was taken back (15); ${name} cannot follow`;
  switch (code) {
    case "01":
      return previous.some((c) => RECIPIENT_CODES.includes(c)) ? `${name} is only the first status of a recipient` : null;
    case "02":
      return has("03") ? `the document was already accepted (03); it cannot be refused now` : null;
    case "03":
      return has("03") ? `the document was already accepted (03)` : null;
    case "04":
    case "05":
      return !has("03") ? `${name} needs the document accepted (03) first` : has("06") ? `the document is already done (06)` : null;
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
