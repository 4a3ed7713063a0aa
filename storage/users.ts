// People who sign in to the web interface, each belonging to one local agency with one role. Only
// a hash of the password is kept, computed by the caller (hashing is the application's job);
// getUserCredentials is the one reader that answers it.
import type { Db } from "./db.ts";

/** What a user or an API token may do (service contract, "Roles and words"). */
export const ROLES = ["clerk", "archivist", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const LANGUAGES = ["vi", "en"] as const;
export type Language = (typeof LANGUAGES)[number];

export interface UserRecord {
  id: number;
  organId: string;
  /** Lower-cased, in NFC: the form it is stored and compared in. */
  username: string;
  fullName: string;
  role: Role;
  disabled: boolean;
  /** null: none chosen yet (the browser's preference applies). */
  language: Language | null;
  createdAt: string;
  updatedAt: string;
}

/** The one form of a username: "Nguyễn.An" and "NGUYỄN.AN" (composed or not) are one user. */
const normalizeUsername = (username: string) => username.toLowerCase().normalize("NFC");

function toUser(r: Record<string, unknown>): UserRecord {
  return {
    id: Number(r.id),
    organId: r.organ_id as string,
    username: r.username as string,
    fullName: r.full_name as string,
    role: r.role as Role,
    disabled: Boolean(r.disabled),
    language: (r.language as Language | null) ?? null,
    createdAt: new Date(r.created_at as string).toISOString(),
    updatedAt: new Date(r.updated_at as string).toISOString(),
  };
}

/** Throws a unique violation (isUniqueViolation) when the username is taken, in any case. */
export async function addUser(
  db: Db,
  u: { organId: string; username: string; fullName?: string; role: Role; passwordHash: string; language?: Language | null },
): Promise<UserRecord> {
  const now = new Date();
  const [row] = await db("users")
    .insert({
      organ_id: u.organId,
      username: normalizeUsername(u.username),
      full_name: u.fullName ?? "",
      role: u.role,
      password_hash: u.passwordHash,
      disabled: false,
      language: u.language ?? null,
      created_at: now,
      updated_at: now,
    })
    .returning("id");
  return (await getUser(db, Number(typeof row === "object" ? row.id : row)))!;
}

export async function getUser(db: Db, id: number): Promise<UserRecord | null> {
  const r = await db("users").where({ id }).first();
  return r ? toUser(r) : null;
}

export async function getUserByUsername(db: Db, username: string): Promise<UserRecord | null> {
  const r = await db("users").where({ username: normalizeUsername(username) }).first();
  return r ? toUser(r) : null;
}

/** For signing in only: the user (disabled or not: the caller decides) with the password hash. */
export async function getUserCredentials(db: Db, username: string): Promise<{ user: UserRecord; passwordHash: string } | null> {
  const r = await db("users").where({ username: normalizeUsername(username) }).first();
  return r ? { user: toUser(r), passwordHash: r.password_hash } : null;
}

/** Oldest first. */
export async function listUsers(db: Db, f: { organId?: string } = {}): Promise<UserRecord[]> {
  const q = db("users").orderBy("id");
  if (f.organId) q.where({ organ_id: f.organId });
  return (await q).map(toUser);
}

const updateUser = async (db: Db, id: number, change: Record<string, unknown>) =>
  (await db("users").where({ id }).update({ ...change, updated_at: new Date() })) > 0;

/** false when there is no such user. */
export const setUserDisabled = (db: Db, id: number, disabled: boolean) => updateUser(db, id, { disabled });

/** `passwordHash` is already computed by the caller. */
export const setUserPassword = (db: Db, id: number, passwordHash: string) => updateUser(db, id, { password_hash: passwordHash });

export const setUserLanguage = (db: Db, id: number, language: Language | null) => updateUser(db, id, { language });
