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
import { listLocalAgencies, type Role } from "../storage/index.ts";

export type { Role };
import type { AppContext, Caller } from "./context.ts";
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

/** The operator at the command line holds the database, so may do what a node administrator may. */
export const isOperator = (caller: Caller) => caller.actor.startsWith("cli:");

/** A node administrator: an admin of the node's first local agency, or the operator (the pages show their forms only to them). */
export async function isNodeAdmin(ctx: AppContext, caller: Caller): Promise<boolean> {
  if (caller.role !== "admin") return false;
  if (isOperator(caller)) return true;
  const [first] = await listLocalAgencies(ctx.storage.db);
  return first?.organId === caller.organId;
}

/**
 * Forbidden unless the caller is a node administrator: an admin of the node's first local agency,
 * or the operator. Only they change what every local agency relies on (remote registry entries,
 * trust anchors, CRLs): an admin of another local agency could otherwise re-point a remote
 * agency's endpoint and receive the other agencies' documents.
 */
export async function assertNodeAdmin(ctx: AppContext, caller: Caller, what: string): Promise<void> {
  assertRole(caller, ADMINS, what);
  if (!(await isNodeAdmin(ctx, caller))) {
    const [first] = await listLocalAgencies(ctx.storage.db);
    throw forbidden(
      `only the node administrators (the administrators of ${first?.organId ?? "the node's first agency"}, the node's first agency) may ${what}; an administrator of ${caller.organId} manages only that agency's own entry, users and tokens`,
    );
  }
}
