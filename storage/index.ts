// Public face of storage: the database (SQLite or PostgreSQL through knex), blobs, agencies and
// identities, tokens, trust, registry, documents, statuses, the delivery queue and the audit log.
export { openStorage, isUniqueViolation, type Db, type Storage, type StorageOptions } from "./db.ts";
export { masterKey } from "./keys.ts";
export * from "./blobs.ts";
export * from "./agencies.ts";
export * from "./documents.ts";
export * from "./deliveries.ts";
export { fold, terms } from "./search.ts";
