// The fields of an agency entry (registry, local agencies, registry snapshots): one set of rules,
// applied by every door that takes an agency (API, CLI, first start, snapshot reader and writer).
// Each rule answers the problem as a sentence naming the field as the caller calls it (`what`),
// or null when the value is acceptable.
import { stripBidiControls } from "./names.ts";
import { ORGAN_ID_LENIENT, ORGAN_ID_STRICT } from "./validate.ts";

/** C0, DEL and C1 controls (U+0085 NEL included): names and URLs are one line of text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const AGENCY_NAME_MAX = 200;
const ENDPOINT_MAX = 500;
export const AGENCY_STATUSES = ["active", "inactive"] as const;

/** An organ id: strict (NNN.NN.NN.XNN, our own agencies) or lenient (other systems' ids). */
export function organIdProblem(id: unknown, what: string, strict = false): string | null {
  if (id === undefined || id === null || id === "") return `${what} is required (e.g. 000.00.00.H41)`;
  if (strict) {
    return typeof id === "string" && ORGAN_ID_STRICT.test(id)
      ? null
      : `${what} ${JSON.stringify(id)} is not an organ id of the form 000.00.00.G22 (three digits, two, two, then a capital letter and two digits)`;
  }
  return typeof id === "string" && ORGAN_ID_LENIENT.test(id) ? null : `${what} ${JSON.stringify(id)} is not an organ id (1 to 35 letters, digits or dots, e.g. 000.00.00.H41)`;
}

/** A name: 1 to 200 characters (code points) on one line, after trimming and removing bidi controls. */
export function agencyNameProblem(name: unknown, what: string): string | null {
  if (typeof name !== "string" || !agencyName(name)) return `${what} is required`;
  const n = agencyName(name);
  if ([...n].length > AGENCY_NAME_MAX || CONTROL.test(n)) return `${what} must be 1 to ${AGENCY_NAME_MAX} characters on one line (no control characters)`;
  return null;
}

/** The stored form of an accepted name: no bidi controls, trimmed, NFC (as Vietnamese text is compared and searched). */
export const agencyName = (name: string) => stripBidiControls(name).trim().normalize("NFC");

/** The endpoint of an agency reached through the national axle's hub (app/vdxp.ts), not a node's URL. */
export const VDXP_ENDPOINT = "vdxp:";

/**
 * The literal `vdxp:` (reached through the national axle), or a node's base URL: http(s), no user, query or fragment, one line of at most 500 characters, and
 * not ending in /edxml (packets go to {endpoint}/edxml).
 */
export function endpointProblem(url: unknown, what: string): string | null {
  if (url === VDXP_ENDPOINT) return null;
  if (typeof url !== "string" || !url) return `${what} is required: the base URL of the node hosting the agency (packets go to {endpoint}/edxml)`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${what} ${JSON.stringify(url)} is not a URL; give the node's base URL, such as https://edoc.example.gov.vn`;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return `${what} must be an http or https URL, not ${u.protocol} (a base URL starting http:// or https://)`;
  if (u.username || u.password) return `${what} must not carry a user name or password`;
  if (u.search || u.hash || url.includes("?") || url.includes("#")) return `${what} must not carry a query or fragment: it is a base URL`;
  if (CONTROL.test(url) || url.trim() !== url || url.length > ENDPOINT_MAX) return `${what} must be one line of at most ${ENDPOINT_MAX} characters`;
  if (/\/edxml\/*$/.test(url)) return `${what} is the node's base URL; packets go to {endpoint}/edxml, so leave /edxml off`;
  return null;
}

/** The stored form of an accepted endpoint: without trailing slashes. */
export const endpointBase = (url: string) => url.replace(/\/+$/, "");

/** A parent organ id, which may be absent but not the agency itself. */
export function parentProblem(parentId: unknown, organId: string, what: string): string | null {
  if (parentId === undefined || parentId === null || parentId === "") return null;
  if (typeof parentId !== "string" || !ORGAN_ID_LENIENT.test(parentId)) return `${what} ${JSON.stringify(parentId)} is not an organ id`;
  return parentId === organId ? `${what}: an agency cannot be its own parent` : null;
}
