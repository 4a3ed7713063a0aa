// Who may do what. Roles (service contract, "Roles and words"):
//   clerk      (văn thư)   sends, receives, sets statuses, reads its agency's documents
//   archivist  (lưu trữ)   reads and exports everything of its agency, changes nothing
//   admin      (quản trị)  manages its agency's users and tokens and the registry; does NOT read
//                          documents: separating the person who can re-bind certificates from the
//                          people who read and act on documents keeps either from doing both unseen
// The node administrators are the admins of the node's first local agency: only they change what
// every local agency shares (remote registry entries, trust anchors, CRLs).
// Every role may read the registry and verify packets. A caller sees only its own agency's
// documents: another agency's document is "not found", exactly as one that does not exist.
import type { Role } from "../storage/index.ts";

export type { Role };
import type { Caller } from "./context.ts";
import { forbidden } from "./errors.ts";

const ROLE_NAMES: Record<Role, string> = { clerk: "clerk (văn thư)", archivist: "archivist (lưu trữ)", admin: "administrator (quản trị)" };

export const DOCUMENT_READERS: readonly Role[] = ["clerk", "archivist"];
export const CLERKS: readonly Role[] = ["clerk"];
export const ADMINS: readonly Role[] = ["admin"];

/** Forbidden unless the caller has one of the roles; `what` says what is refused. */
export function assertRole(caller: Caller, roles: readonly Role[], what: string): void {
  if (!roles.includes(caller.role)) {
    throw forbidden(`your role, ${ROLE_NAMES[caller.role]}, may not ${what}; this needs ${roles.map((r) => ROLE_NAMES[r]).join(" or ")}`);
  }
}
