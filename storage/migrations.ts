// The schema, as knex migrations in code (a migration source, so the same list runs from the
// TypeScript sources and from the built dist/). The same migrations serve SQLite and PostgreSQL.
import type { Knex } from "knex";
import { parseStrict, parseVnTimestamp, readPacket, type EdocHeader } from "../envelopes/index.ts";
import { timestampSignerExpiry } from "../signing/index.ts";
import { dueDate, foldedPhrase, namesText, terms } from "./search.ts";

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const init: Migration = {
  name: "001_init",
  async up(knex) {
    // Agencies hosted by this node, with their signing identity. The private key is encrypted at
    // rest (AES-256-GCM) with the node's master key, never stored in clear.
    await knex.schema.createTable("local_agencies", (t) => {
      t.string("organ_id", 35).primary();
      t.string("name", 200).notNullable();
      t.text("certificate_pem").notNullable();
      t.text("chain_pem").notNullable().defaultTo("");
      t.binary("private_key_enc").notNullable();
      t.boolean("development").notNullable().defaultTo(false);
      t.timestamp("created_at", { useTz: true }).notNullable();
    });
    // API tokens: only a SHA-256 hash of the token is kept.
    await knex.schema.createTable("tokens", (t) => {
      t.increments("id").primary();
      t.string("token_hash", 64).notNullable().unique();
      t.string("organ_id", 35).notNullable().references("organ_id").inTable("local_agencies");
      t.string("role", 16).notNullable();
      t.string("name", 200).notNullable().defaultTo("");
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.timestamp("revoked_at", { useTz: true }).nullable();
    });
    await knex.schema.createTable("trust_anchors", (t) => {
      t.string("fingerprint", 64).primary();
      t.text("pem").notNullable();
      t.string("subject", 500).notNullable();
      t.timestamp("added_at", { useTz: true }).notNullable();
    });
    await knex.schema.createTable("crls", (t) => {
      t.string("sha256", 64).primary();
      t.string("issuer", 500).notNullable();
      t.binary("der").notNullable();
      t.timestamp("this_update", { useTz: true }).notNullable();
      t.timestamp("next_update", { useTz: true }).nullable();
      t.timestamp("added_at", { useTz: true }).notNullable();
    });
    // The registry: every agency this node knows, local or remote.
    await knex.schema.createTable("registry", (t) => {
      t.string("organ_id", 35).primary();
      t.string("name", 200).notNullable();
      t.string("parent_id", 35).nullable();
      t.string("endpoint", 500).notNullable();
      t.text("certificates_pem").notNullable().defaultTo("");
      t.text("certificate_fingerprints").notNullable(); // JSON array of lowercase hex SHA-256
      t.string("status", 16).notNullable().defaultTo("active");
      t.string("source", 500).notNullable().defaultTo("local");
      t.timestamp("updated_at", { useTz: true }).notNullable();
    });
    // Content-addressed blobs (packets byte-exact, attachments), chunked so that any size streams
    // and all state can live in one PostgreSQL shared by several nodes.
    await knex.schema.createTable("blobs", (t) => {
      t.string("sha256", 64).primary();
      t.bigInteger("size").notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
    });
    await knex.schema.createTable("blob_chunks", (t) => {
      t.string("sha256", 64).notNullable().references("sha256").inTable("blobs").onDelete("CASCADE");
      t.integer("seq").notNullable();
      t.binary("data").notNullable();
      t.primary(["sha256", "seq"]);
    });
    // Documents, in and out. `local_organ` is the agency of this node that owns the record.
    await knex.schema.createTable("documents", (t) => {
      t.string("id", 36).primary();
      t.string("direction", 3).notNullable(); // in | out
      t.string("local_organ", 35).notNullable();
      t.string("document_id", 200).notNullable(); // edXML DocumentId
      t.string("from_organ", 35).notNullable();
      t.string("code", 100).notNullable().defaultTo("");
      t.string("subject", 1000).notNullable().defaultTo("");
      t.integer("business_type").notNullable().defaultTo(0);
      t.string("doc_type", 100).notNullable().defaultTo("");
      t.string("promulgation_date", 10).notNullable().defaultTo("");
      t.string("status", 16).notNullable(); // inbound: received or the last code set here; outbound: sent
      // revoke / update / replace: the DocumentId they act on; and what later packets did to this one
      t.string("related_document_id", 200).nullable();
      t.string("business_state", 16).nullable(); // revoked | updated | replaced
      t.string("packet_sha256", 64).notNullable().references("sha256").inTable("blobs");
      t.text("header_json").notNullable();
      t.text("report_json").notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.unique(["direction", "local_organ", "from_organ", "document_id"]);
      t.index(["local_organ", "direction", "created_at"]);
      t.index(["local_organ", "created_at"]);
    });
    await knex.schema.createTable("document_recipients", (t) => {
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.string("organ_id", 35).notNullable();
      t.primary(["document", "organ_id"]);
      t.index(["organ_id"]);
    });
    await knex.schema.createTable("attachments", (t) => {
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.integer("n").notNullable();
      t.string("name", 500).notNullable();
      t.string("content_type", 200).notNullable();
      t.string("sha256", 64).notNullable().references("sha256").inTable("blobs");
      t.bigInteger("size").notNullable();
      t.primary(["document", "n"]);
    });
    // Diacritics-insensitive search: one row per folded word of a document (storage/search.ts),
    // kept in date order per agency and word so that the newest matches are read straight off
    // the index, whatever the archive's size.
    await knex.schema.createTable("search_terms", (t) => {
      t.string("local_organ", 35).notNullable();
      t.string("term", 100).notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.primary(["local_organ", "term", "created_at", "document"]);
      t.index(["local_organ", "term", "document"]);
    });
    // Every status packet sent or received for a document, byte-exact.
    await knex.schema.createTable("statuses", (t) => {
      t.increments("id").primary();
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.string("code", 2).notNullable();
      t.string("from_organ", 35).notNullable();
      t.string("to_organ", 35).notNullable();
      t.string("direction", 8).notNullable(); // sent | received
      t.string("packet_sha256", 64).notNullable().references("sha256").inTable("blobs");
      t.string("description", 1000).notNullable().defaultTo("");
      t.timestamp("at", { useTz: true }).notNullable();
      t.index(["document", "id"]);
    });
    // The durable delivery queue: one row per packet and recipient.
    await knex.schema.createTable("deliveries", (t) => {
      t.increments("id").primary();
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.string("organ_id", 35).notNullable(); // recipient
      t.string("kind", 6).notNullable(); // edoc | status
      t.string("packet_sha256", 64).notNullable().references("sha256").inTable("blobs");
      t.string("state", 16).notNullable(); // queued | sending | delivered | failed
      t.string("status_code", 2).nullable(); // the latest status the recipient sent back (02–06, 15, 16)
      t.integer("attempts").notNullable().defaultTo(0);
      t.timestamp("next_attempt_at", { useTz: true }).notNullable();
      t.string("claimed_by", 100).nullable();
      t.timestamp("claimed_until", { useTz: true }).nullable();
      t.string("last_error", 1000).nullable();
      t.timestamp("updated_at", { useTz: true }).notNullable();
      t.index(["state", "next_attempt_at"]);
      t.index(["document"]);
    });
    await knex.schema.createTable("audit_log", (t) => {
      t.increments("id").primary();
      t.timestamp("at", { useTz: true }).notNullable();
      t.string("actor", 200).notNullable();
      t.string("organ_id", 35).nullable();
      t.string("action", 100).notNullable();
      t.string("document", 36).nullable();
      t.text("detail").notNullable().defaultTo("{}");
      t.index(["document"]);
    });
  },
  async down(knex) {
    for (const table of [
      "audit_log",
      "deliveries",
      "statuses",
      "search_terms",
      "attachments",
      "document_recipients",
      "documents",
      "blob_chunks",
      "blobs",
      "registry",
      "crls",
      "trust_anchors",
      "tokens",
      "local_agencies",
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};

// Tokens may expire, and remember when they were last used (written at most once a minute).
const tokenExpiry: Migration = {
  name: "002_token_expiry_and_last_use",
  async up(knex) {
    await knex.schema.alterTable("tokens", (t) => {
      t.timestamp("expires_at", { useTz: true }).nullable();
      t.timestamp("last_used_at", { useTz: true }).nullable();
    });
  },
  async down(knex) {
    await knex.schema.alterTable("tokens", (t) => {
      t.dropColumn("expires_at");
      t.dropColumn("last_used_at");
    });
  },
};

// People who sign in to the web interface. The username is stored lower-cased in NFC, so the
// unique index makes it unique case-insensitively; the password is kept only as a hash.
const users: Migration = {
  name: "003_users",
  async up(knex) {
    await knex.schema.createTable("users", (t) => {
      t.increments("id").primary();
      t.string("organ_id", 35).notNullable().references("organ_id").inTable("local_agencies");
      t.string("username", 100).notNullable().unique();
      t.string("full_name", 200).notNullable().defaultTo("");
      t.string("role", 16).notNullable(); // clerk | archivist | admin
      t.text("password_hash").notNullable();
      t.boolean("disabled").notNullable().defaultTo(false);
      t.string("language", 2).nullable(); // vi | en; null: the browser's choice
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.timestamp("updated_at", { useTz: true }).notNullable();
      t.index(["organ_id"]);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("users");
  },
};

// What identifies a status packet, whatever bytes carry it: its signed Timestamp and the digest of
// its signed MessageHeader (a received status; a sent one keeps its Timestamp only). Rows from
// before get their Timestamp read back from the packet stored with them (verified, or signed here,
// when it was stored), so that their order is still compared; their digest stays null, and they are
// matched by their packet's bytes.
const statusIdentity: Migration = {
  name: "004_status_identity",
  async up(knex) {
    await knex.schema.alterTable("statuses", (t) => {
      t.timestamp("signed_timestamp", { useTz: true }).nullable();
      t.string("header_digest", 128).nullable();
      t.unique(["document", "from_organ", "code", "header_digest"], { indexName: "statuses_identity" });
    });
    for (const row of await knex("statuses").select("id", "packet_sha256")) {
      // the blob's chunks read here, as the schema of this migration stores them
      const chunks = await knex("blob_chunks").where({ sha256: row.packet_sha256 }).orderBy("seq").select("data");
      const timestamp = signedTimestamp(Buffer.concat(chunks.map((c) => Buffer.from(c.data))));
      if (timestamp) await knex("statuses").where({ id: row.id }).update({ signed_timestamp: timestamp });
    }
  },
  async down(knex) {
    await knex.schema.alterTable("statuses", (t) => {
      t.dropUnique(["document", "from_organ", "code", "header_digest"], "statuses_identity");
      t.dropColumn("signed_timestamp");
      t.dropColumn("header_digest");
    });
  },
};

// Search by the beginning of a word and by signer and attachment names, and the type filter
// folded like the words. Prefix ranges need folded words to sort byte-wise: PostgreSQL keeps
// the column in the "C" collation (SQLite compares bytes already). Probes go by document, then
// word (exact or a range), so that index replaces the one by agency, word and document.
const searchPrefix: Migration = {
  name: "006_search_prefix_and_names",
  async up(knex) {
    const pg = knex.client.config.client === "pg";
    if (pg) await knex.raw('ALTER TABLE search_terms ALTER COLUMN term TYPE varchar(100) COLLATE "C"');
    await knex.schema.alterTable("search_terms", (t) => {
      t.dropIndex(["local_organ", "term", "document"]);
      t.index(["document", "term"]);
    });
    await knex.schema.alterTable("documents", (t) => {
      t.string("doc_type_folded", 100).notNullable().defaultTo("");
    });
    for (const { doc_type } of await knex("documents").distinct("doc_type")) {
      await knex("documents").where({ doc_type }).update({ doc_type_folded: foldedPhrase(doc_type).slice(0, 100) });
    }
    // the signer's and attachments' names of the documents already stored, 500 at a time
    for (let after = ""; ; ) {
      const docs = await knex("documents").where("id", ">", after).orderBy("id").limit(500).select("id", "local_organ", "created_at", "header_json");
      if (!docs.length) break;
      after = docs[docs.length - 1].id;
      const files = new Map<string, Array<{ name: string }>>();
      for (const a of await knex("attachments").whereIn("document", docs.map((d) => d.id)).select("document", "name")) {
        files.set(a.document, [...(files.get(a.document) ?? []), a]);
      }
      const rows = docs.flatMap((d) => {
        const header = (JSON.parse(d.header_json).header ?? {}) as Pick<EdocHeader, "SignerInfo">;
        return terms(namesText(header, files.get(d.id) ?? [])).map((term) => ({ local_organ: d.local_organ, term, created_at: d.created_at, document: d.id }));
      });
      for (let i = 0; i < rows.length; i += 200) {
        await knex("search_terms").insert(rows.slice(i, i + 200)).onConflict(["local_organ", "term", "created_at", "document"]).ignore();
      }
    }
  },
  async down(knex) {
    await knex.raw("ALTER TABLE documents DROP COLUMN doc_type_folded"); // in place (SQLite ≥ 3.35 too)
    await knex.schema.alterTable("search_terms", (t) => {
      t.dropIndex(["document", "term"]);
      t.index(["local_organ", "term", "document"]);
    });
  },
};

/** The Timestamp of a stored status packet; null when it cannot be read. */
function signedTimestamp(packet: Buffer): Date | null {
  try {
    const read = readPacket(parseStrict(packet.toString("utf8"))).packet;
    return (read.kind === "status" && parseVnTimestamp(read.header.Timestamp)) || null;
  } catch {
    return null;
  }
}

// Per registry snapshot URL, the snapshot last applied: an older one is refused, after a restart too.
const registrySyncState: Migration = {
  name: "005_registry_sync_state",
  async up(knex) {
    await knex.schema.createTable("registry_sync", (t) => {
      t.string("source", 500).primary();
      t.timestamp("issued_at", { useTz: true }).notNullable();
      t.timestamp("expires_at", { useTz: true }).notNullable();
      t.string("publisher", 500).notNullable();
      t.timestamp("applied_at", { useTz: true }).notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("registry_sync");
  },
};


// Sessions of the web pages: the cookie holds a random id, the table only its SHA-256 (a copy of
// the database opens no session); each has its CSRF secret. Failed sign-ins are rows, so that
// every node on one database counts the same attempts.
const sessions: Migration = {
  name: "007_sessions",
  async up(knex) {
    await knex.schema.createTable("sessions", (t) => {
      t.string("id_hash", 64).primary();
      t.integer("user_id").notNullable().references("id").inTable("users").onDelete("CASCADE");
      t.string("csrf_secret", 64).notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.timestamp("last_seen_at", { useTz: true }).notNullable();
      t.index(["user_id"]);
    });
    await knex.schema.createTable("sign_in_failures", (t) => {
      t.increments("id").primary();
      t.string("key", 300).notNullable(); // "user:NAME" or "address:IP"
      t.timestamp("at", { useTz: true }).notNullable();
      t.index(["key", "at"]);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("sign_in_failures");
    await knex.schema.dropTableIfExists("sessions");
  },
};

// The books of Nghị định 30/2020: the incoming book (sổ văn bản đến) gives each document a clerk
// accepts (03, "vào sổ") the next số đến of its agency for the year; the counter row is taken and
// raised in the transaction that records the 03, so two documents never share a number, and a
// document has one số đến at most. (The outgoing book is the sent documents themselves: their
// Số/Ký hiệu, by year of promulgation.) Also: which documents each user has opened (the inbox
// marks the others unread), and the DueDate (hạn xử lý) as a column, for the overdue filter.
const registers: Migration = {
  name: "009_registers_and_reads",
  async up(knex) {
    await knex.schema.createTable("register_counters", (t) => {
      t.string("local_organ", 35).notNullable();
      t.string("book", 3).notNullable(); // in
      t.integer("year").notNullable();
      t.integer("last_number").notNullable();
      t.primary(["local_organ", "book", "year"]);
    });
    await knex.schema.createTable("incoming_register", (t) => {
      t.string("local_organ", 35).notNullable();
      t.integer("year").notNullable();
      t.integer("number").notNullable();
      t.string("document", 36).notNullable().unique().references("id").inTable("documents");
      t.timestamp("recorded_at", { useTz: true }).notNullable();
      t.primary(["local_organ", "year", "number"]);
    });
    await knex.schema.createTable("document_reads", (t) => {
      t.integer("user_id").notNullable().references("id").inTable("users").onDelete("CASCADE");
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.timestamp("read_at", { useTz: true }).notNullable();
      t.primary(["user_id", "document"]);
    });
    await knex.schema.alterTable("documents", (t) => {
      t.string("due_date", 10).nullable(); // yyyy-mm-dd
    });
    for (let after = ""; ; ) {
      const docs = await knex("documents").where("id", ">", after).orderBy("id").limit(500).select("id", "header_json");
      if (!docs.length) break;
      after = docs[docs.length - 1].id;
      for (const d of docs) {
        const due = dueDate((JSON.parse(d.header_json).header ?? {}) as Pick<EdocHeader, "DueDate">);
        if (due) await knex("documents").where({ id: d.id }).update({ due_date: due });
      }
    }
  },
  async down(knex) {
    await knex.raw("ALTER TABLE documents DROP COLUMN due_date");
    await knex.schema.dropTableIfExists("document_reads");
    await knex.schema.dropTableIfExists("incoming_register");
    await knex.schema.dropTableIfExists("register_counters");
  },
};

// The key of each compose form a clerk sent: a double click, a reload or a retry after a lost
// answer sends the same key, and finds the document already sent instead of sending it twice.
const sendKeys: Migration = {
  name: "010_send_keys",
  async up(knex) {
    await knex.schema.createTable("send_keys", (t) => {
      t.string("local_organ", 35).notNullable();
      t.string("key", 64).notNullable();
      t.string("document", 36).notNullable().references("id").inTable("documents");
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.primary(["local_organ", "key"]);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("send_keys");
  },
};

// Time-stamps: trust anchors are for signers or for time-stamping authorities; a signature
// time-stamp (XAdES B-T) a packet could not get when it was signed is kept beside it, by the SHA-256
// of its stored bytes (pending while `token` is null); archive rounds stamp Merkle roots.
const signatureTimestamps: Migration = {
  name: "012_timestamps",
  async up(knex) {
    await knex.schema.alterTable("trust_anchors", (t) => {
      t.string("purpose", 8).notNullable().defaultTo("signing"); // "signing" | "tsa"
    });
    await knex.schema.createTable("signature_timestamps", (t) => {
      t.string("packet_sha256", 64).primary();
      t.binary("token").nullable(); // DER of the RFC 3161 TimeStampToken
      t.timestamp("stamped_at", { useTz: true }).nullable();
      t.integer("attempts").notNullable().defaultTo(0);
      t.timestamp("next_attempt_at", { useTz: true }).notNullable();
      t.string("last_error", 1000).nullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.index(["next_attempt_at"]);
    });
    // Archive time-stamps: each round a Merkle tree over the SHA-256 of the items stored since the
    // last one, its root stamped; each item keeps its inclusion path (an item is in one round).
    await knex.schema.createTable("archive_rounds", (t) => {
      t.increments("id").primary();
      t.string("root", 64).notNullable().unique();
      t.integer("size").notNullable();
      t.binary("token").notNullable(); // RFC 3161 TimeStampToken over the root's 32 bytes
      t.timestamp("created_at", { useTz: true }).notNullable();
    });
    await knex.schema.createTable("archive_items", (t) => {
      t.string("sha256", 64).primary();
      t.integer("round").notNullable().references("id").inTable("archive_rounds");
      t.integer("leaf_index").notNullable();
      t.text("path").notNullable(); // JSON array of sibling hashes (hex), from the leaf up
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("archive_items");
    await knex.schema.dropTableIfExists("archive_rounds");
    await knex.schema.dropTableIfExists("signature_timestamps");
    await knex.schema.alterTable("trust_anchors", (t) => {
      t.dropColumn("purpose");
    });
  },
};

// The audit log as a hash chain (each row's hash covers the previous row's and its own content, in
// the order one writer linked them) and the node's signed checkpoints of its head.
const auditChain: Migration = {
  name: "014_audit_chain",
  async up(knex) {
    await knex.schema.alterTable("audit_log", (t) => {
      t.bigInteger("seq").nullable().unique();
      t.string("hash", 64).nullable();
    });
    await knex.schema.createTable("audit_checkpoints", (t) => {
      t.increments("id").primary();
      t.bigInteger("seq").notNullable();
      t.string("hash", 64).notNullable();
      t.timestamp("at", { useTz: true }).notNullable();
      t.string("organ_id", 35).notNullable();
      t.text("certificate").notNullable(); // base64 DER of the signer's certificate
      t.text("signature").notNullable(); // base64 RSA-SHA256 over checkpointBytes
      t.text("timestamp_token").nullable(); // base64 DER RFC 3161 token over the same bytes
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("audit_checkpoints");
    await knex.schema.alterTable("audit_log", (t) => {
      t.dropUnique(["seq"]);
      t.dropColumn("seq");
      t.dropColumn("hash");
    });
  },
};

// The national axle (VDXP, migration 013): the hub's DocId of a delivery it accepted (the delivery
// is then `relayed` until the 01 comes back); per registry entry, whether unsigned packets from the
// axle are accepted from it, and the certificate seen in its first signed packet while none was
// bound (offered to an admin, never bound without one).
const vdxpBridge: Migration = {
  name: "013_vdxp_bridge",
  async up(knex) {
    await knex.schema.alterTable("deliveries", (t) => {
      t.string("hub_doc_id", 200).nullable();
    });
    await knex.schema.alterTable("registry", (t) => {
      t.boolean("accept_unsigned").notNullable().defaultTo(false);
      t.text("seen_certificate_pem").nullable();
    });
  },
  async down(knex) {
    await knex.schema.alterTable("registry", (t) => {
      t.dropColumn("seen_certificate_pem");
      t.dropColumn("accept_unsigned");
    });
    await knex.schema.alterTable("deliveries", (t) => {
      t.dropColumn("hub_doc_id");
    });
  },
};

// Per registry snapshot URL, the last attempt to sync (also a failed one: its error) and when the
// next is due, for the administrators' page; every node on one database writes and reads the same.
const registrySyncRuns: Migration = {
  name: "011_registry_sync_runs",
  async up(knex) {
    await knex.schema.createTable("registry_sync_runs", (t) => {
      t.string("source", 500).primary();
      t.timestamp("attempted_at", { useTz: true }).notNullable();
      t.text("error");
      t.timestamp("next_at", { useTz: true });
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("registry_sync_runs");
  },
};

// Archive time-stamp renewals (RFC 4998 §5.2): before the certificates of the TSA that made a
// round's latest stamp expire, a new stamp over the SHA-256 of that stamp's DER; a round's stamps in
// order (its root stamp, then seq 1, 2, …) form the chain an archivist checks. Rows are only ever
// added. Each stamp's expiry (the first among the certificates it carries) is kept beside it, so the
// renewal job finds the due rounds by a query instead of reading every token; the rounds stamped
// before this migration get theirs here.
/** A stored stamp's expiry; one that cannot be read is renewed at once (the epoch). */
function storedStampExpiry(token: Buffer): Date {
  try {
    return timestampSignerExpiry(token);
  } catch {
    return new Date(0);
  }
}

const archiveRenewals: Migration = {
  name: "015_archive_renewals",
  async up(knex) {
    await knex.schema.alterTable("archive_rounds", (t) => {
      t.timestamp("stamp_expires_at", { useTz: true }).nullable(); // set for every round, from here on at insert
    });
    for (let after = 0; ; ) {
      const rounds = await knex("archive_rounds").where("id", ">", after).orderBy("id").limit(500).select("id", "token");
      if (!rounds.length) break;
      after = rounds[rounds.length - 1].id;
      for (const r of rounds) await knex("archive_rounds").where({ id: r.id }).update({ stamp_expires_at: storedStampExpiry(Buffer.from(r.token)) });
    }
    await knex.schema.createTable("archive_renewals", (t) => {
      t.integer("round").notNullable().references("id").inTable("archive_rounds");
      t.integer("seq").notNullable();
      t.binary("token").notNullable(); // RFC 3161 TimeStampToken over SHA-256 of the previous stamp's DER
      t.timestamp("expires_at", { useTz: true }).notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.primary(["round", "seq"]);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists("archive_renewals");
    await knex.schema.alterTable("archive_rounds", (t) => {
      t.dropColumn("stamp_expires_at");
    });
  },
};

const MIGRATIONS: Migration[] = [init, tokenExpiry, users, statusIdentity, registrySyncState, searchPrefix, sessions, registers, sendKeys, registrySyncRuns, signatureTimestamps, vdxpBridge, auditChain, archiveRenewals];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};
