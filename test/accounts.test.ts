// Tokens (expiry, last use, listing, revoking), users and the audit log, on SQLite and PostgreSQL.
import { expect } from "chai";
import { createHash } from "node:crypto";
import {
  addLocalAgency,
  addUser,
  audit,
  createToken,
  findToken,
  getToken,
  getUser,
  getUserByUsername,
  getUserCredentials,
  isUniqueViolation,
  listAudit,
  listTokens,
  listUsers,
  masterKey,
  openStorage,
  revokeToken,
  setUserDisabled,
  setUserLanguage,
  setUserPassword,
  type Storage,
} from "../storage/index.ts";
import { anotherDatabase, onEachDatabase } from "./helpers/db.ts";
import { RECIPIENT, SENDER, testPki } from "../fixtures/index.ts";

const TOKEN_INFO_KEYS = ["id", "organId", "role", "name", "createdAt", "expiresAt", "lastUsedAt", "revokedAt"];

onEachDatabase("accounts", (database) => {
  let st: Storage;
  before(async () => {
    st = await database().open();
    const { sender, recipient } = testPki();
    const key = masterKey(st.dataDir, undefined);
    await addLocalAgency(st.db, key, { organId: SENDER, name: "Văn phòng Chính phủ", identity: sender });
    await addLocalAgency(st.db, key, { organId: RECIPIENT, name: "Bộ Nội vụ", identity: recipient });
  });
  after(async () => st?.close());

  /** Runs `f` and answers the SQL of the UPDATE statements it issued. */
  async function updatesDuring(f: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const listen = (q: { sql: string }) => {
      if (/^\s*update/i.test(q.sql)) seen.push(q.sql);
    };
    st.db.on("query", listen);
    try {
      await f();
    } finally {
      st.db.removeListener("query", listen);
    }
    return seen;
  }

  describe("tokens", () => {
    it("creates a token with its id, lists it without the token or its hash, oldest first", async () => {
      const before = (await listTokens(st.db)).length;
      const a = await createToken(st.db, { organId: SENDER, role: "clerk", name: "văn thư" });
      const b = await createToken(st.db, { organId: RECIPIENT, role: "admin" });
      expect(a.token).to.match(/^edoc_[A-Za-z0-9_-]{43}$/);
      expect(b.id).to.be.greaterThan(a.id);
      const all = await listTokens(st.db);
      expect(all.length).to.equal(before + 2);
      expect(all.map((t) => t.id)).to.deep.equal([...all.map((t) => t.id)].sort((x, y) => x - y));
      const info = all.find((t) => t.id === a.id)!;
      expect(Object.keys(info).sort()).to.deep.equal([...TOKEN_INFO_KEYS].sort());
      expect(info).to.deep.include({ organId: SENDER, role: "clerk", name: "văn thư", expiresAt: null, lastUsedAt: null, revokedAt: null });
      expect(new Date(info.createdAt).toISOString()).to.equal(info.createdAt);
      const hash = createHash("sha256").update(a.token).digest("hex");
      expect(JSON.stringify(all)).not.to.include(hash);
      expect(JSON.stringify(all)).not.to.include(a.token);
      expect((await listTokens(st.db, { organId: RECIPIENT })).map((t) => t.id)).to.include(b.id).and.not.include(a.id);
      expect(await getToken(st.db, b.id)).to.deep.equal(all.find((t) => t.id === b.id));
      expect(await getToken(st.db, 999_999)).to.equal(null);
    });

    it("refuses a revoked token at once, and says whether there was one to revoke", async () => {
      const t = await createToken(st.db, { organId: SENDER, role: "archivist" });
      expect(await findToken(st.db, t.token)).to.deep.equal({ id: t.id, organId: SENDER, role: "archivist", name: "" });
      expect(await revokeToken(st.db, t.id)).to.equal(true);
      expect(await findToken(st.db, t.token)).to.equal(null);
      expect(await revokeToken(st.db, t.id)).to.equal(false);
      expect(await revokeToken(st.db, 999_999)).to.equal(false);
      const info = (await getToken(st.db, t.id))!;
      expect(info.revokedAt).to.be.a("string");
      expect(Date.parse(info.revokedAt!)).to.be.closeTo(Date.now(), 60_000);
    });

    it("refuses a token from its expiry on", async () => {
      const expiresAt = new Date(Date.now() + 3_600_000);
      const t = await createToken(st.db, { organId: SENDER, role: "clerk", expiresAt });
      expect((await getToken(st.db, t.id))!.expiresAt).to.equal(expiresAt.toISOString());
      expect(await findToken(st.db, t.token)).to.include({ id: t.id });
      expect(await findToken(st.db, t.token, new Date(expiresAt.getTime() - 1))).to.include({ id: t.id });
      expect(await findToken(st.db, t.token, expiresAt)).to.equal(null);
      expect(await findToken(st.db, t.token, new Date(expiresAt.getTime() + 86_400_000))).to.equal(null);
      const expired = await createToken(st.db, { organId: SENDER, role: "clerk", expiresAt: new Date(Date.now() - 1000) });
      expect(await findToken(st.db, expired.token)).to.equal(null);
      const never = await createToken(st.db, { organId: SENDER, role: "clerk", expiresAt: null });
      expect(await findToken(st.db, never.token, new Date("2100-01-01T00:00:00Z"))).to.include({ id: never.id });
    });

    it("records the last use, writing it at most once a minute", async () => {
      const t = await createToken(st.db, { organId: SENDER, role: "clerk" });
      const t0 = new Date(Date.now() + 10_000);
      const at = (ms: number) => new Date(t0.getTime() + ms);
      const lastUse = async () => (await getToken(st.db, t.id))!.lastUsedAt;

      expect(await updatesDuring(() => findToken(st.db, t.token, t0))).to.have.length(1);
      expect(await lastUse()).to.equal(t0.toISOString());
      // within the minute: a read, no write
      expect(await updatesDuring(() => findToken(st.db, t.token, at(30_000)))).to.deep.equal([]);
      expect(await updatesDuring(() => findToken(st.db, t.token, at(59_999)))).to.deep.equal([]);
      expect(await lastUse()).to.equal(t0.toISOString());
      // a minute later: written again
      expect(await updatesDuring(() => findToken(st.db, t.token, at(60_000)))).to.have.length(1);
      expect(await lastUse()).to.equal(at(60_000).toISOString());
      // concurrent requests that all see a stale time write it once: the condition is in the UPDATE
      const owners = await Promise.all([1, 2, 3, 4, 5].map((i) => findToken(st.db, t.token, at(200_000 + i))));
      expect(owners.every((o) => o?.id === t.id)).to.equal(true);
      expect(Date.parse((await lastUse())!)).to.be.within(at(200_001).getTime(), at(200_005).getTime());
      // an unknown, revoked or expired token writes nothing
      expect(await updatesDuring(() => findToken(st.db, "edoc_unknown", at(400_000)))).to.deep.equal([]);
      await revokeToken(st.db, t.id);
      expect(await updatesDuring(() => findToken(st.db, t.token, at(500_000)))).to.deep.equal([]);
      expect(await lastUse()).to.not.equal(at(500_000).toISOString());
    });
  });

  describe("users", () => {
    it("stores the username lower-cased in NFC, unique whatever its case or composition", async () => {
      const typed = "NGUYỄN.Văn.An".normalize("NFD");
      const u = await addUser(st.db, { organId: SENDER, username: typed, fullName: "Nguyễn Văn An", role: "clerk", passwordHash: "scrypt$hash-1" });
      expect(u).to.deep.include({ organId: SENDER, username: "nguyễn.văn.an".normalize("NFC"), fullName: "Nguyễn Văn An", role: "clerk", disabled: false, language: null });
      expect(Object.keys(u).sort()).to.deep.equal(["createdAt", "disabled", "fullName", "id", "language", "organId", "role", "updatedAt", "username"]);
      expect(await getUser(st.db, u.id)).to.deep.equal(u);
      expect(await getUserByUsername(st.db, "Nguyễn.văn.AN")).to.deep.equal(u);
      expect(await getUserByUsername(st.db, "nguyen.van.an")).to.equal(null);
      const again = await addUser(st.db, { organId: RECIPIENT, username: "nguyễn.văn.an", role: "admin", passwordHash: "x" }).catch((e: unknown) => e);
      expect(isUniqueViolation(again)).to.equal(true);
      expect(await getUser(st.db, 999_999)).to.equal(null);
    });

    it("answers the password hash only to getUserCredentials", async () => {
      const u = await addUser(st.db, { organId: RECIPIENT, username: "luutru", role: "archivist", passwordHash: "scrypt$secret-hash", language: "en" });
      expect(u.language).to.equal("en");
      expect(JSON.stringify([u, await getUser(st.db, u.id), await getUserByUsername(st.db, "luutru"), await listUsers(st.db)])).not.to.include("secret-hash");
      expect(await getUserCredentials(st.db, "LuuTru")).to.deep.equal({ user: u, passwordHash: "scrypt$secret-hash" });
      expect(await getUserCredentials(st.db, "nobody")).to.equal(null);
    });

    it("lists users oldest first, per agency; disables, sets the password hash and the language", async () => {
      const a = await addUser(st.db, { organId: SENDER, username: "quantri", role: "admin", passwordHash: "h1" });
      const all = await listUsers(st.db);
      expect(all.map((x) => x.id)).to.deep.equal([...all.map((x) => x.id)].sort((x, y) => x - y));
      expect(all.at(-1)).to.deep.equal(a);
      const ofSender = await listUsers(st.db, { organId: SENDER });
      expect(ofSender.length).to.be.greaterThan(0);
      expect(ofSender.every((x) => x.organId === SENDER)).to.equal(true);
      expect(ofSender.length + (await listUsers(st.db, { organId: RECIPIENT })).length).to.equal(all.length);

      expect(await setUserDisabled(st.db, a.id, true)).to.equal(true);
      const disabled = (await getUser(st.db, a.id))!;
      expect(disabled.disabled).to.equal(true);
      expect(Date.parse(disabled.updatedAt)).to.be.at.least(Date.parse(a.updatedAt));
      expect((await getUserCredentials(st.db, "quantri"))!.user.disabled).to.equal(true);
      expect(await setUserDisabled(st.db, a.id, false)).to.equal(true);
      expect((await getUser(st.db, a.id))!.disabled).to.equal(false);

      expect(await setUserPassword(st.db, a.id, "h2")).to.equal(true);
      expect((await getUserCredentials(st.db, "quantri"))!.passwordHash).to.equal("h2");
      expect(await setUserLanguage(st.db, a.id, "vi")).to.equal(true);
      expect((await getUser(st.db, a.id))!.language).to.equal("vi");
      expect(await setUserLanguage(st.db, a.id, null)).to.equal(true);
      expect((await getUser(st.db, a.id))!.language).to.equal(null);

      for (const change of [setUserDisabled(st.db, 999_999, true), setUserPassword(st.db, 999_999, "h"), setUserLanguage(st.db, 999_999, "en")]) {
        expect(await change).to.equal(false);
      }
    });

    it("belongs to a local agency of this node", async () => {
      const err = await addUser(st.db, { organId: "000.00.00.Z99", username: "ghost", role: "clerk", passwordHash: "h" }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect(await getUserByUsername(st.db, "ghost")).to.equal(null);
    });
  });

  describe("audit log", () => {
    it("lists entries newest first, by time and agency, paged by id", async () => {
      const start = new Date(Date.now() - 1000);
      for (let i = 0; i < 7; i++) {
        await audit(st.db, { actor: `token ${i}`, organId: i % 2 ? RECIPIENT : SENDER, action: "token.create", detail: { n: i } });
      }
      await audit(st.db, { actor: "user quantri", action: "trust.add", document: "doc-1" });
      const all = await listAudit(st.db, { since: start });
      expect(all.length).to.equal(8);
      expect(all.map((e) => e.id)).to.deep.equal([...all.map((e) => e.id)].sort((x, y) => y - x));
      expect(all[0]).to.deep.include({ actor: "user quantri", organId: null, action: "trust.add", document: "doc-1", detail: {} });
      expect(all[1]).to.deep.include({ actor: "token 6", organId: SENDER, action: "token.create", document: null, detail: { n: 6 } });
      expect(new Date(all[0].at).toISOString()).to.equal(all[0].at);

      expect((await listAudit(st.db, { since: start, organId: RECIPIENT })).map((e) => e.detail.n)).to.deep.equal([5, 3, 1]);
      expect(await listAudit(st.db, { since: new Date(Date.now() + 60_000) })).to.deep.equal([]);

      const pages: number[][] = [];
      let beforeId: number | undefined;
      for (;;) {
        const page = await listAudit(st.db, { since: start, limit: 3, beforeId });
        if (!page.length) break;
        pages.push(page.map((e) => e.id));
        beforeId = page.at(-1)!.id;
      }
      expect(pages.map((p) => p.length)).to.deep.equal([3, 3, 2]);
      expect(pages.flat()).to.deep.equal(all.map((e) => e.id));
    });
  });

  it("upgrades a database made before expiry and last use: its tokens keep working", async () => {
    const other = anotherDatabase(database());
    const old = await openStorage(other.options);
    try {
      // back to 001_init, undoing the later migrations (002_token_expiry_and_last_use, 003_users, …)
      while ((await old.db.migrate.list())[0].length > 1) await old.db.migrate.down();
      expect(await old.db.schema.hasColumn("tokens", "expires_at")).to.equal(false);
      expect(await old.db.schema.hasTable("users")).to.equal(false);
      await addLocalAgency(old.db, masterKey(old.dataDir, undefined), { organId: SENDER, name: "Văn phòng Chính phủ", identity: testPki().sender });
      const token = "edoc_made-by-the-first-version";
      await old.db("tokens").insert({ token_hash: createHash("sha256").update(token).digest("hex"), organ_id: SENDER, role: "admin", name: "old", created_at: new Date() });
      await old.db.migrate.latest();
      const owner = await findToken(old.db, token);
      expect(owner).to.include({ organId: SENDER, role: "admin", name: "old" });
      expect((await getToken(old.db, owner!.id))!).to.deep.include({ expiresAt: null, revokedAt: null });
      expect((await getToken(old.db, owner!.id))!.lastUsedAt).to.be.a("string");
    } finally {
      await old.close();
      await other.cleanup();
    }
  });
});
