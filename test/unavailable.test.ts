// A database that is busy or out of reach: 503 with Retry-After and a sentence in Vietnamese or
// English, nothing stored, a warning in the log (not an internal error), and the sending node
// retries. Real parts throughout:
//   - isDatabaseUnavailable on the errors the drivers themselves give: SQLite held by another
//     connection (BEGIN EXCLUSIVE); PostgreSQL's too many
//     connections (a role with a connection limit), a closed or resetting loopback port (also at
//     every address of a host name), a server answering 57P03 and 08006 on the wire, knex's pool
//     acquire timeout; and the errors that are not unavailability (constraints, syntax, unknown
//     tables, a table locked by its own connection's reader, 08P01) on both;
//   - a node on SQLite whose database another connection holds in an exclusive transaction: the
//     API, the inbound door (/edxml) and the sign-in page answer 503, and a sending node retries
//     until the lock is gone;
//   - a node on PostgreSQL through a loopback relay that is then closed (connection refused): the
//     API, the inbound door and a page whose session cannot be read (its cookie is kept).
import { expect } from "chai";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import knexFactory, { type Knex } from "knex";
import pino from "pino";
import sqlite3 from "sqlite3";
import { AppError, sendDocument, setStatus, startDeliveryWorker, tokenCaller } from "../app/index.ts";
import { findDocument, isDatabaseUnavailable, listDeliveries } from "../storage/index.ts";
import { pack, RECIPIENT, sampleEdoc, scratch, SENDER, testPki } from "../fixtures/index.ts";
import { onPostgreSQL } from "./helpers/db.ts";
import { link, startNode, type TestNode } from "./helpers/node.ts";
import { waitFor } from "./helpers/wait.ts";

const VI = "cơ sở dữ liệu đang bận hoặc tạm thời không truy cập được; chưa có gì được ghi, vui lòng thử lại sau ít giây";
const EN = "the database is busy or cannot be reached for now; nothing was recorded, try again in a few seconds";
const TABLES = ["documents", "attachments", "blobs", "statuses", "deliveries", "audit_log", "sign_in_failures", "sessions"];

/** knex's own log, silenced: the failures provoked here are the point. */
const log = { warn() {}, error() {}, deprecate() {}, debug() {} };

/** What `promise` rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.removeListener("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** A port of 127.0.0.1 nobody listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** A log that keeps its records, to see what a failure was logged as. */
function keptLog() {
  const lines: Array<{ level: number; msg: string; cause?: { code?: string; message?: string } }> = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: "info" }, out), lines };
}

/** Another connection to the node's SQLite file, holding it in an exclusive transaction until released. */
async function holdSqlite(dataDir: string): Promise<{ release(): Promise<void> }> {
  const other = knexFactory({ log, client: "sqlite3", connection: { filename: `${dataDir}/edoc.sqlite` }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  await other.raw("BEGIN EXCLUSIVE");
  return {
    async release() {
      await other.raw("ROLLBACK");
      await other.destroy();
    },
  };
}

// ---- the recognition, on the drivers' own errors ------------------------------------------------

describe("isDatabaseUnavailable [sqlite]", () => {
  const s = scratch();
  let a: Knex;
  let b: Knex;
  before(async () => {
    a = knexFactory({ log, client: "sqlite3", connection: { filename: s.path("x.sqlite") }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
    b = knexFactory({ log, client: "sqlite3", connection: { filename: s.path("x.sqlite") }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
    await a.raw("PRAGMA journal_mode = WAL");
    await a.raw("CREATE TABLE t (x INTEGER UNIQUE NOT NULL)");
    await b.raw("PRAGMA busy_timeout = 50");
  });
  after(async () => {
    await a?.destroy();
    await b?.destroy();
    s.cleanup();
  });

  it("SQLITE_BUSY: another connection holds the database in an exclusive transaction", async () => {
    await a.raw("BEGIN EXCLUSIVE");
    try {
      const err = await failure(b("t").insert({ x: 1 }));
      expect(err).to.have.property("code", "SQLITE_BUSY");
      expect(isDatabaseUnavailable(err)).to.equal(true);
      const inTransaction = await failure(b.transaction((trx) => trx("t").insert({ x: 2 })));
      expect(isDatabaseUnavailable(inTransaction)).to.equal(true);
    } finally {
      await a.raw("ROLLBACK");
    }
  });

  it("not SQLITE_LOCKED (a table dropped while a statement of the same connection still reads it): this node's own conflict", async () => {
    const db = new sqlite3.Database(s.path("locked.sqlite"));
    try {
      await new Promise<void>((resolve, reject) => db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3);", (err) => (err ? reject(err) : resolve())));
      const reading = db.prepare("SELECT x FROM t");
      await new Promise<void>((resolve) => reading.get(() => resolve()));
      const err = await new Promise<Error | null>((resolve) => db.run("DROP TABLE t", (e: Error | null) => resolve(e)));
      reading.finalize();
      expect(err).to.have.property("code", "SQLITE_LOCKED");
      expect(isDatabaseUnavailable(err)).to.equal(false);
    } finally {
      await new Promise((r) => db.close(r));
    }
  });

  it("not a constraint violation, a syntax error, an unknown table, or an error of anything else", async () => {
    await a("t").insert({ x: 7 });
    const unique = await failure(a("t").insert({ x: 7 }));
    expect(unique).to.have.property("code", "SQLITE_CONSTRAINT");
    const notNull = await failure(a("t").insert({ x: null }));
    const syntax = await failure(a.raw("SELEC 1"));
    const noTable = await failure(a("nothing").select());
    for (const err of [unique, notNull, syntax, noTable, new Error("database is locked"), new AppError("conflict", "x"), null, undefined, "SQLITE_BUSY"]) {
      expect(isDatabaseUnavailable(err), String((err as Error)?.message ?? err)).to.equal(false);
    }
  });
});

/** A loopback server that answers every PostgreSQL start-up with an ErrorResponse of `code`, as a server starting up does. */
async function answeringWith(code: string, message: string): Promise<{ port: number; close(): Promise<void> }> {
  const field = (type: string, value: string) => Buffer.concat([Buffer.from(type), Buffer.from(value), Buffer.from([0])]);
  const fields = Buffer.concat([field("S", "FATAL"), field("V", "FATAL"), field("C", code), field("M", message), Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(fields.length + 4);
  const answer = Buffer.concat([Buffer.from("E"), length, fields]);
  const server = createServer((socket) => socket.once("data", () => socket.end(answer)));
  const port = await listen(server);
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

onPostgreSQL("isDatabaseUnavailable", (database) => {
  let url: string;
  let admin: Knex;
  const role = `edoc_unavailable_${process.pid}`;
  before(async () => {
    url = database().options().databaseUrl!;
    admin = knexFactory({ log, client: "pg", connection: url, pool: { min: 0, max: 2 } });
  });
  after(async () => {
    await admin?.raw("DROP ROLE IF EXISTS ??", [role]);
    await admin?.destroy();
  });
  const at = (port: number, user = "postgres") => {
    const u = new URL(url);
    u.port = String(port);
    u.username = user;
    return u.toString();
  };

  it("53300 too many connections: a role with a connection limit of one, asked for a second", async () => {
    await admin.raw("DROP ROLE IF EXISTS ??", [role]);
    await admin.raw("CREATE ROLE ?? LOGIN CONNECTION LIMIT 1", [role]);
    const k = knexFactory({ log, client: "pg", connection: at(Number(new URL(url).port || 5432), role), pool: { min: 0, max: 2 } });
    try {
      const trx = await k.transaction();
      await trx.raw("select 1");
      const err = await failure(k.raw("select 1"));
      await trx.rollback();
      expect(err).to.have.property("code", "53300");
      expect(isDatabaseUnavailable(err)).to.equal(true);
    } finally {
      await k.destroy();
    }
  });

  it("connection refused at every address of a host name (Node's AggregateError, as on a dual-stack host)", async () => {
    const port = await closedPort();
    const err = await new Promise<Error>((resolve) => {
      const addresses = [
        { address: "127.0.0.1", family: 4 },
        { address: "127.0.0.2", family: 4 },
      ];
      const socket = connect({ host: "db.test", port, autoSelectFamily: true, lookup: (_h, o, cb) => (o.all ? cb(null, addresses) : cb(null, addresses[0].address, 4)) });
      socket.once("error", resolve);
    });
    expect(err).to.be.instanceOf(AggregateError).and.have.property("code", "ECONNREFUSED");
    expect(isDatabaseUnavailable(err)).to.equal(true);
    // one address refused, another failing otherwise: not all of them say "unavailable"
    expect(isDatabaseUnavailable(new AggregateError([(err as AggregateError).errors[0], new Error("certificate has expired")]))).to.equal(false);
  });

  it("connection refused (a closed loopback port) and reset (a port that resets every connection)", async () => {
    const refused = knexFactory({ log, client: "pg", connection: at(await closedPort()) });
    const err = await failure(refused.raw("select 1"));
    await refused.destroy();
    expect(err).to.have.property("code", "ECONNREFUSED");
    expect(isDatabaseUnavailable(err)).to.equal(true);

    const resetting = createServer((socket: Socket) => socket.resetAndDestroy());
    const port = await listen(resetting);
    const reset = knexFactory({ log, client: "pg", connection: at(port) });
    try {
      const e = await failure(reset.raw("select 1"));
      expect(e).to.have.property("code", "ECONNRESET");
      expect(isDatabaseUnavailable(e)).to.equal(true);
    } finally {
      await reset.destroy();
      await new Promise((r) => resetting.close(r));
    }
  });

  it("57P03 cannot connect now and class 08 (not 08P01, a protocol violation), as a server sends them on the wire", async () => {
    for (const [code, message, unavailable] of [
      ["57P03", "the database system is starting up", true],
      ["08006", "connection failure", true],
      ["08P01", "invalid frontend message type 0", false],
    ] as const) {
      const server = await answeringWith(code, message);
      const k = knexFactory({ log, client: "pg", connection: at(server.port) });
      try {
        const err = await failure(k.raw("select 1"));
        expect(err).to.include({ code, message });
        expect(isDatabaseUnavailable(err), code).to.equal(unavailable);
      } finally {
        await k.destroy();
        await server.close();
      }
    }
  });

  it("57P01 a connection the server ended (pg_terminate_backend, as a restart does) and the next use of it; a server that closes without a word", async () => {
    const k = knexFactory({ log, client: "pg", connection: url, pool: { min: 0, max: 1 } });
    try {
      const { rows } = (await k.raw("select pg_backend_pid() as pid")) as { rows: Array<{ pid: number }> };
      const sleeping = failure(k.raw("select pg_sleep(10)"));
      await new Promise((r) => setTimeout(r, 200));
      await admin.raw("select pg_terminate_backend(?)", [rows[0].pid]);
      const ended = await sleeping;
      expect(ended).to.have.property("code", "57P01");
      expect(isDatabaseUnavailable(ended)).to.equal(true);
      // the pool's one connection, used again before the pool hears that it closed
      const next = await failure(k.raw("select 1"));
      expect((next as Error).message).to.match(/Connection terminated unexpectedly$/);
      expect(isDatabaseUnavailable(next)).to.equal(true);
    } finally {
      await k.destroy();
    }
    const closing = createServer((socket: Socket) => socket.once("data", () => socket.end()));
    const port = await listen(closing);
    const c = knexFactory({ log, client: "pg", connection: at(port) });
    try {
      const err = await failure(c.raw("select 1"));
      expect((err as Error).message).to.equal("Connection terminated unexpectedly");
      expect(isDatabaseUnavailable(err)).to.equal(true);
      // the same words with a code, or inside another sentence, are not this
      expect(isDatabaseUnavailable(Object.assign(new Error("Connection terminated unexpectedly"), { code: "XX000" }))).to.equal(false);
      expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly, said the peer of a test"))).to.equal(false);
    } finally {
      await c.destroy();
      await new Promise((r) => closing.close(r));
    }
  });

  it("knex's pool acquire timeout: every connection of the pool held", async () => {
    const k = knexFactory({ log, client: "pg", connection: url, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 200 });
    const trx = await k.transaction();
    try {
      const err = await failure(k.raw("select 1"));
      expect(err).to.have.property("name", "KnexTimeoutError");
      expect((err as Error).message).to.include("Timeout acquiring a connection");
      expect(isDatabaseUnavailable(err)).to.equal(true);
    } finally {
      await trx.rollback();
      await k.destroy();
    }
  });

  it("not a constraint violation, a syntax error or an unknown table", async () => {
    const trx = await admin.transaction();
    try {
      await trx.raw("CREATE TEMPORARY TABLE t (x integer UNIQUE NOT NULL) ON COMMIT DROP");
      await trx("t").insert({ x: 1 });
      const errors: unknown[] = [];
      for (const run of [() => trx("t").insert({ x: 1 }), () => trx("t").insert({ x: null }), () => trx.raw("SELEC 1"), () => trx("nothing").select()]) {
        await trx.raw("SAVEPOINT s");
        errors.push(await failure(run()));
        await trx.raw("ROLLBACK TO SAVEPOINT s");
      }
      expect(errors.map((e) => (e as { code: string }).code)).to.deep.equal(["23505", "23502", "42601", "42P01"]);
      for (const err of errors) expect(isDatabaseUnavailable(err), (err as Error).message).to.equal(false);
    } finally {
      await trx.rollback();
    }
  });
});

// ---- a node whose SQLite database is held by another connection ----------------------------------

describe("a busy database: 503 with Retry-After, nothing stored [sqlite]", function () {
  this.timeout(60_000);
  const s = scratch();
  let t: TestNode;
  const kept = keptLog();
  const pdf = Buffer.from("%PDF-1.4\n% Quyết định\n%%EOF\n");

  before(async () => {
    t = await startNode({
      database: { dataDir: s.path("data") },
      organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }],
      registry: [{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: "http://127.0.0.1:9", certificates: [testPki().sender.certificate] }],
      log: kept.log,
    });
  });
  after(async () => {
    await t?.close();
    s.cleanup();
  });

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of TABLES) out[table] = Number((await t.node.storage.reader(table).count({ n: "*" }))[0].n);
    return out;
  }

  function documentForm(): FormData {
    const fd = new FormData();
    fd.append("metadata", JSON.stringify({ To: [SENDER], Code: "12/UBND-VP", Subject: "Về việc báo cáo tình hình", DocumentType: { Type: 1, TypeName: "Công văn" } }));
    fd.append("files", new Blob([new Uint8Array(pdf)], { type: "application/pdf" }), "Công văn.pdf");
    return fd;
  }

  /** Runs `fn` while another connection holds the database; then checks that nothing was stored and that the log has a warning, no error. */
  async function whileHeld(fn: () => Promise<void>): Promise<void> {
    const before = await counts();
    const from = kept.lines.length;
    const held = await holdSqlite(t.node.config.dataDir);
    try {
      await fn();
    } finally {
      await held.release();
    }
    expect(await counts(), "nothing stored").to.deep.equal(before);
    const logged = kept.lines.slice(from);
    expect(logged.filter((l) => l.level >= 50), "no error logged").to.deep.equal([]);
    const warnings = logged.filter((l) => l.level === 40 && l.msg.includes("the database is busy or cannot be reached for now; nothing was recorded, try again in a few seconds; answered 503"));
    expect(warnings, "a warning for each").to.have.length.greaterThan(0);
    expect(warnings[0].cause).to.deep.equal({ code: "SQLITE_BUSY", message: "SQLITE_BUSY: database is locked" }); // not the statement, whose values are documents' text
  }

  it("the API: 503, Retry-After, the sentence in Vietnamese or English as Accept-Language asks; sent once the database is free", async () => {
    await whileHeld(async () => {
      // (the API answers in Vietnamese when Accept-Language ranks it above English, else in English)
      for (const [lang, sentence] of [
        ["vi", VI],
        ["en", EN],
      ] as const) {
        const res = await fetch(`${t.url}/api/v1/documents`, { method: "POST", headers: { ...t.auth(RECIPIENT, "clerk"), "accept-language": lang }, body: documentForm() });
        expect(res.status).to.equal(503);
        expect(res.headers.get("retry-after")).to.equal("5");
        expect(res.headers.get("content-language")).to.equal(lang);
        expect(await res.json()).to.deep.equal({ error: sentence, details: { retryAfterSeconds: 5 } });
      }
    });
    const res = await fetch(`${t.url}/api/v1/documents`, { method: "POST", headers: t.auth(RECIPIENT, "clerk"), body: documentForm() });
    expect(res.status, await res.clone().text()).to.equal(201);
  });

  it("the inbound door: 503 and Retry-After, so that the sending node tries again; received once the database is free", async () => {
    const packet = await pack(sampleEdoc({}, ["Quyết định.pdf"]), [pdf], testPki().sender);
    const post = (lang?: string) =>
      fetch(`${t.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml", ...(lang ? { "accept-language": lang } : {}) }, body: new Uint8Array(packet) });
    await whileHeld(async () => {
      const res = await post("en");
      expect(res.status).to.equal(503);
      expect(res.headers.get("retry-after")).to.equal("5");
      expect((await res.json()).error).to.equal(EN);
    });
    const res = await post();
    expect(res.status, await res.clone().text()).to.equal(202);
  });

  it("the sign-in page: a 503 page saying so in the page's language, with Retry-After", async () => {
    const form = await fetch(`${t.url}/sign-in`);
    const visitor = /edoc_visitor=([^;]+)/.exec(form.headers.get("set-cookie") ?? "")![1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    await whileHeld(async () => {
      for (const [lang, sentence] of [
        [null, VI],
        ["en", EN],
      ] as const) {
        const res = await fetch(`${t.url}/sign-in`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", cookie: `edoc_visitor=${visitor}${lang ? `; edoc_lang=${lang}` : ""}` },
          body: new URLSearchParams({ csrf, username: "van.thu", password: "mật khẩu" }),
          redirect: "manual",
        });
        expect(res.status).to.equal(503);
        expect(res.headers.get("retry-after")).to.equal("5");
        expect(res.headers.get("content-type")).to.match(/^text\/html/);
        const html = await res.text();
        expect(html).to.include('role="alert"').and.include(sentence);
      }
    });
  });
});

describe("a sending node retries while the recipient's database is busy [sqlite]", function () {
  this.timeout(60_000);
  const s = scratch();
  let a: TestNode;
  let b: TestNode;
  const delivery = { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 1000, leaseMs: 60_000, pollMs: 50, timeoutMs: 30_000 };
  const worker = (h: TestNode) => {
    const w = startDeliveryWorker(h.node);
    return () => w.stop();
  };
  before(async () => {
    a = await startNode({ database: { dataDir: s.path("a") }, organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }], config: { delivery }, onListening: worker });
    b = await startNode({ database: { dataDir: s.path("b") }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config: { delivery } });
    await link(a, b);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    s.cleanup();
  });

  it("a 503 from the recipient is a retry, not a failure: delivered once the lock is gone", async () => {
    const held = await holdSqlite(b.node.config.dataDir);
    let released = false;
    try {
      const doc = await sendDocument(
        a.node,
        { organId: SENDER, role: "clerk", name: "test clerk", actor: "test" },
        { To: [RECIPIENT], Code: "7/QĐ-VPCP", Subject: "Quyết định số 7", DocumentType: { Type: 1, TypeName: "Quyết định" } },
        [],
      );
      const retried = await waitFor("a delivery attempt answered 503", async () => {
        const [d] = await listDeliveries(a.node.storage.db, doc.id, "edoc");
        return d.lastError?.includes("HTTP 503") ? d : null;
      });
      // waiting for its next attempt, or already in it (the retry delay is short here): never failed
      expect(retried.state).to.be.oneOf(["queued", "sending"]);
      expect(retried.lastError).to.include(EN);
      await held.release();
      released = true;
      const done = await waitFor("the delivery", async () => {
        const [d] = await listDeliveries(a.node.storage.db, doc.id, "edoc");
        return d.state === "delivered" ? d : null;
      });
      expect(done.attempts).to.be.greaterThan(1);
    } finally {
      if (!released) await held.release();
    }
  });
});

// ---- a node whose PostgreSQL cannot be reached ----------------------------------------------------

/** A TCP relay on 127.0.0.1 to `target`; close() refuses new connections and cuts the open ones, open() listens again on the same port. */
async function relay(target: URL) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const db = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(db);
    const drop = () => {
      client.destroy();
      db.destroy();
      sockets.delete(client);
      sockets.delete(db);
    };
    for (const s of [client, db]) s.on("error", drop).on("close", drop);
    client.pipe(db);
    db.pipe(client);
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
    open: () => listen(server, port),
  };
}

onPostgreSQL("a database that cannot be reached: 503 with Retry-After, nothing stored", (database) => {
  let t: TestNode;
  let through: Awaited<ReturnType<typeof relay>>;
  let direct: Knex;
  const kept = keptLog();
  before(async function () {
    this.timeout(60_000);
    const options = database().options();
    const url = new URL(options.databaseUrl!);
    through = await relay(url);
    const relayed = new URL(url);
    relayed.hostname = "127.0.0.1";
    relayed.port = String(through.port);
    t = await startNode({ database: { ...options, databaseUrl: relayed.toString() }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], log: kept.log });
    direct = knexFactory({ log, client: "pg", connection: options.databaseUrl, searchPath: [options.schema!], pool: { min: 0, max: 1 } });
  });
  after(async () => {
    await through?.open().catch(() => {});
    await t?.close();
    await direct?.destroy();
    await through?.close();
  });

  const counts = async () => Object.fromEntries(await Promise.all(TABLES.map(async (table) => [table, Number((await direct(table).count({ n: "*" }))[0].n)])));

  it("connection refused: the API, the inbound door and a page answer 503, Retry-After, in Vietnamese and English; a warning is logged, no error", async function () {
    this.timeout(60_000);
    const before = await counts();
    const from = kept.lines.length;
    await through.close();
    try {
      const fd = new FormData();
      fd.append("metadata", JSON.stringify({ To: [SENDER], Code: "3/UBND-VP", Subject: "Về việc báo cáo", DocumentType: { Type: 1, TypeName: "Công văn" } }));
      fd.append("files", new Blob([new Uint8Array(Buffer.from("%PDF-1.4\n%%EOF\n"))], { type: "application/pdf" }), "Công văn.pdf");
      const api = await fetch(`${t.url}/api/v1/documents`, { method: "POST", headers: { ...t.auth(RECIPIENT, "clerk"), "accept-language": "vi-VN, en;q=0.5" }, body: fd });
      expect(api.status).to.equal(503);
      expect(api.headers.get("retry-after")).to.equal("5");
      expect((await api.json()).error).to.equal(VI);

      const packet = await pack(sampleEdoc({}, []), [], testPki().sender);
      const inbound = await fetch(`${t.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml", "accept-language": "en" }, body: new Uint8Array(packet) });
      expect(inbound.status).to.equal(503);
      expect(inbound.headers.get("retry-after")).to.equal("5");
      expect((await inbound.json()).error).to.equal(EN);

      // a page whose session cannot be read: the error page, and the session's cookie kept (not ended)
      const page = await fetch(`${t.url}/`, { headers: { cookie: `edoc_session=${"s".repeat(43)}; edoc_lang=en` }, redirect: "manual" });
      expect(page.status).to.equal(503);
      expect(page.headers.get("retry-after")).to.equal("5");
      expect(page.headers.get("set-cookie") ?? "").not.to.include("edoc_session");
      expect(await page.text()).to.include('role="alert"').and.include(EN);
    } finally {
      await through.open();
    }
    expect(await counts(), "nothing stored").to.deep.equal(before);
    const logged = kept.lines.slice(from);
    expect(logged.filter((l) => l.level >= 50), "no error logged").to.deep.equal([]);
    const warnings = logged.filter((l) => l.level === 40 && l.msg.includes("answered 503"));
    expect(warnings.map((w) => w.cause?.code)).to.deep.equal(["ECONNREFUSED", "ECONNREFUSED", "ECONNREFUSED"]);
    // the database back: the same node answers again
    const res = await fetch(`${t.url}/api/v1/documents`, { headers: t.auth(RECIPIENT, "clerk") });
    expect(res.status).to.equal(200);
  });
});

/**
 * A TCP relay on 127.0.0.1 to `target` that, once armed, lets the next transaction which inserts a
 * document reach its COMMIT and then cuts the client off before the server's answer: the database
 * commits, the node hears only "Connection terminated unexpectedly".
 */
async function commitCutter(target: URL) {
  let armed = false;
  let cuts = 0;
  const server = createServer((client) => {
    const db = connect(Number(target.port || 5432), target.hostname);
    let inserting = false;
    let committing = false;
    const drop = () => {
      client.destroy();
      db.destroy();
    };
    for (const s of [client, db]) s.on("error", drop).on("close", drop);
    client.on("data", (chunk: Buffer) => {
      if (armed && chunk.includes('insert into "documents"')) inserting = true;
      if (inserting && chunk.includes("COMMIT")) {
        armed = false;
        inserting = false;
        committing = true;
      }
      db.write(chunk);
    });
    db.on("data", (chunk: Buffer) => {
      // the answer to COMMIT: the server has committed; the node never hears it
      if (committing) {
        cuts++;
        return drop();
      }
      client.write(chunk);
    });
  });
  const port = await listen(server);
  return {
    port,
    arm: () => (armed = true),
    cuts: () => cuts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

onPostgreSQL("a commit whose answer is lost: the deliveries it claimed are sent at once, not after the lease", (database) => {
  const s = scratch();
  let a: TestNode;
  let b: TestNode;
  let cutter: Awaited<ReturnType<typeof commitCutter>>;
  const kept = keptLog();
  // a lease and a poll far longer than the test waits: only the worker's own look finds the rows in
  // time (and a poll's claim, holding the worker's room while it runs, would have the upload's rows
  // queued instead of claimed for the worker)
  const delivery = { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 1000, leaseMs: 600_000, pollMs: 600_000, timeoutMs: 30_000 };
  before(async function () {
    this.timeout(60_000);
    const options = database().options();
    cutter = await commitCutter(new URL(options.databaseUrl!));
    const through = new URL(options.databaseUrl!);
    through.hostname = "127.0.0.1";
    through.port = String(cutter.port);
    a = await startNode({
      database: { ...options, databaseUrl: through.toString() },
      organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }],
      config: { delivery },
      log: kept.log,
      onListening: (h) => {
        const w = startDeliveryWorker(h.node);
        return () => w.stop();
      },
    });
    b = await startNode({ database: { dataDir: s.path("b") }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config: { delivery } });
    await link(a, b);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await cutter?.close();
    s.cleanup();
  });

  it("the send is answered 503 (its commit unknown), the document is stored once, and B receives it within seconds", async function () {
    this.timeout(60_000);
    cutter.arm();
    const fd = new FormData();
    fd.append("metadata", JSON.stringify({ To: [RECIPIENT], Code: "9/QĐ-VPCP", Subject: "Quyết định số 9 về việc thử", DocumentType: { Type: 1, TypeName: "Quyết định" } }));
    fd.append("files", new Blob([new Uint8Array(Buffer.from("%PDF-1.4\n%%EOF\n"))], { type: "application/pdf" }), "Quyết định.pdf");
    const res = await fetch(`${a.url}/api/v1/documents`, { method: "POST", headers: { ...a.auth(SENDER, "clerk"), "accept-language": "en" }, body: fd });
    const answer = await res.clone().text();
    expect(cutter.cuts(), `the relay cut the connection at COMMIT (the answer: ${res.status} ${answer})`).to.equal(1);
    expect(res.status).to.equal(503);
    expect(res.headers.get("retry-after")).to.equal("5");
    expect((await res.json()).error).to.equal("the connection to the database was lost as it recorded this: it may have been recorded; look before you try again");
    // it did commit: one document, its delivery claimed by A's worker, and delivered long before the lease
    const sent = await a.node.storage.db("documents").where({ direction: "out", code: "9/QĐ-VPCP" });
    expect(sent).to.have.length(1);
    const done = await waitFor("the delivery", async () => {
      const [d] = await listDeliveries(a.node.storage.db, sent[0].id, "edoc");
      return d.state === "delivered" ? d : null;
    });
    expect(done.attempts, "sent once, on its first attempt").to.equal(1);
    const received = await b.node.storage.db("documents").where({ direction: "in", code: "9/QĐ-VPCP" });
    expect(received).to.have.length(1);
    expect(kept.lines.some((l) => l.msg.includes("had committed its deliveries"))).to.equal(true);
  });
});

describe("only a commit unknown makes the worker look for its rows [sqlite]", function () {
  this.timeout(60_000);
  it("the same status set twice in one second (one packet, byte for byte): the second refused, the first one's row still being sent is not sent again", async () => {
    const s = scratch();
    const delivery = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000, leaseMs: 600_000, pollMs: 20, timeoutMs: 10_000 };
    const worker = (h: TestNode) => {
      const w = startDeliveryWorker(h.node);
      return () => w.stop();
    };
    const a = await startNode({ database: { dataDir: s.path("a") }, organs: [{ organId: SENDER, name: "Văn phòng Chính phủ" }], config: { delivery }, onListening: worker });
    const b = await startNode({ database: { dataDir: s.path("b") }, organs: [{ organId: RECIPIENT, name: "UBND tỉnh Nghệ An" }], config: { delivery }, onListening: worker });
    // A's door for B's statuses from then on: it answers each after 4 s
    let posts = 0;
    const slow = createHttpServer((req, res) => {
      posts++;
      req.resume();
      req.on("end", () => setTimeout(() => res.writeHead(202).end(), 4000));
    });
    const port = await listen(slow as unknown as Server);
    try {
      await link(a, b);
      const clerk = (organId: string) => tokenCaller({ id: 0, organId, role: "clerk", name: "Văn thư" });
      const doc = await sendDocument(a.node, clerk(SENDER), { To: [RECIPIENT], Code: "12/QĐ-VPCP", Subject: "Quyết định số 12", DocumentType: { Type: 1, TypeName: "Quyết định" } }, []);
      const got = await waitFor("the document at B", () => findDocument(b.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId: doc.documentId }));
      await b.register([{ organId: SENDER, name: "Văn phòng Chính phủ", endpoint: `http://127.0.0.1:${port}`, certificates: [a.agencies[0].identity.certificate] }]);
      // both signed within one second: the same bytes, the same hash
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      const results = await Promise.allSettled([setStatus(b.node, clerk(RECIPIENT), got.id, { code: "03" }), setStatus(b.node, clerk(RECIPIENT), got.id, { code: "03" })]);
      expect(results.map((r) => r.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).to.be.instanceOf(AppError).and.have.property("kind", "conflict");
      // past the worker's first look (1 s) while the first row's POST still waits for its answer
      await new Promise((r) => setTimeout(r, 2500));
      const rows = await listDeliveries(b.node.storage.db, got.id, "status");
      expect(rows.map((d) => [d.state, d.attempts])).to.deep.equal([["sending", 1]]);
      expect(posts, "one row, one POST").to.equal(1);
    } finally {
      await a.close();
      await b.close();
      await new Promise((r) => slow.close(r));
      s.cleanup();
    }
  });
});
