// The database handle every storage function takes (apart from db.ts, so that the blob stores,
// which db.ts opens, can take it too).
import type { Knex } from "knex";

/** A connection or a transaction: every storage function takes either. */
export type Db = Knex | Knex.Transaction;
