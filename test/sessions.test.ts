// Sessions of the web pages (app/sessions.ts) on a real database: sign-in, the idle and absolute
// timeouts, a disabled user, sign-out, CSRF tokens, and throttling that two processes on one
// database agree on. Every sign-in, failure and refusal is in the audit log.
import { expect } from "chai";
import pino from "pino";
import {
  AppError,
  createUser,
  csrfToken,
  csrfTokenMatches,
  disableUser,
  loadConfig,
  openContext,
  sessionCaller,
  signIn,
  signOut,
  visitorSecret,
  type AppContext,
  type Caller,
} from "../app/index.ts";
import { addLocalAgency, listAudit } from "../storage/index.ts";
import { SENDER, testPki } from "../fixtures/index.ts";
import { onEachDatabase } from "./helpers/db.ts";

const CLI: Caller = { organId: SENDER, role: "admin", name: "test", actor: "cli:test" };
const PASSWORD = "mật khẩu đủ dài";

async function thrown(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error("expected an AppError");
}

onEachDatabase("sessions: sign-in, timeouts, throttling", (database) => {
  let a: AppContext;
  let b: AppContext; // a second process on the same database
  let clock: Date;

  before(async () => {
    // 8 failures per address here (20 by default) keep the test short: each attempt costs a scrypt
    const config = { ...loadConfig({}), ...database().options(), signIn: { maxFailuresPerUser: 5, maxFailuresPerAddress: 8, windowMs: 15 * 60_000 } };
    a = await openContext(config, pino({ level: "silent" }));
    b = await openContext(config, pino({ level: "silent" }));
    clock = new Date("2026-12-01T08:00:00Z");
    a.now = b.now = () => clock;
    await addLocalAgency(a.storage.db, a.key, { organId: SENDER, name: "Văn phòng Chính phủ", identity: testPki().sender });
    for (const username of ["an", "binh", "chi"]) await createUser(a, CLI, { organId: SENDER, role: "clerk", username, fullName: `Người ${username}`, password: PASSWORD });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  const at = (ms: number) => (clock = new Date(clock.getTime() + ms));

  it("opens a session another process reads; the cookie's id is not what the database holds", async () => {
    const { sessionId, session } = await signIn(a, { username: "An", password: PASSWORD, address: "10.0.0.1" });
    expect(sessionId).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(session.caller).to.include({ organId: SENDER, role: "clerk" });
    const read = await sessionCaller(b, sessionId);
    expect(read?.username).to.equal("an");
    expect(read?.csrfSecret).to.equal(session.csrfSecret);
    const rows = await a.storage.db("sessions").select();
    expect(JSON.stringify(rows)).to.not.include(sessionId);
    expect(await sessionCaller(b, `${sessionId.slice(0, 42)}x`)).to.equal(null);
    expect(await sessionCaller(b, "not a session id")).to.equal(null);
  });

  it("ends a session after 30 minutes unused, and after 12 hours however busy", async () => {
    const { sessionId } = await signIn(a, { username: "an", password: PASSWORD, address: "10.0.0.1" });
    at(29 * 60_000);
    expect(await sessionCaller(a, sessionId)).to.not.equal(null);
    at(29 * 60_000);
    expect(await sessionCaller(b, sessionId), "used 29 minutes ago: still open").to.not.equal(null);
    at(31 * 60_000);
    expect(await sessionCaller(a, sessionId), "idle for 31 minutes").to.equal(null);

    const busy = (await signIn(a, { username: "an", password: PASSWORD, address: "10.0.0.1" })).sessionId;
    for (let minutes = 29; ; minutes += 29) {
      at(29 * 60_000);
      const session = await sessionCaller(minutes % 2 ? a : b, busy);
      if (minutes <= 12 * 60) expect(session, `used every 29 minutes, ${minutes} minutes old`).to.not.equal(null);
      else {
        expect(session, "open for more than 12 hours").to.equal(null);
        break;
      }
    }
  });

  it("ends the sessions of a disabled user, and signs out (audited)", async () => {
    const one = (await signIn(a, { username: "binh", password: PASSWORD, address: "10.0.0.2" })).sessionId;
    await signOut(a, one);
    expect(await sessionCaller(a, one)).to.equal(null);
    const two = (await signIn(a, { username: "binh", password: PASSWORD, address: "10.0.0.2" })).sessionId;
    await disableUser(a, CLI, "binh");
    expect(await sessionCaller(b, two)).to.equal(null);
    const refused = await thrown(signIn(a, { username: "binh", password: PASSWORD, address: "10.0.0.2" }));
    expect(refused.kind).to.equal("unauthenticated");
    const actions = (await listAudit(a.storage.db, { limit: 1000 })).map((e) => e.action);
    expect(actions).to.include.members(["session.sign-in", "session.sign-out", "session.sign-in-failed"]);
  });

  it("gives one answer for a wrong password and an unknown user, and audits both without the password", async () => {
    const wrong = await thrown(signIn(a, { username: "chi", password: "sai mật khẩu rồi", address: "10.0.0.3" }));
    const unknown = await thrown(signIn(a, { username: "không.có", password: PASSWORD, address: "10.0.0.3" }));
    expect(wrong.kind).to.equal("unauthenticated");
    expect(unknown.message).to.equal(wrong.message);
    const failures = (await listAudit(a.storage.db, { limit: 1000 })).filter((e) => e.action === "session.sign-in-failed");
    expect(failures.map((f) => f.detail.username)).to.include.members(["chi", "không.có"]);
    expect(JSON.stringify(failures)).to.not.include("sai mật khẩu");
    expect(failures.find((f) => f.detail.username === "chi")!.organId).to.equal(SENDER);
  });

  it("makes a user name wait after 5 failures in 15 minutes, counted across processes, even with the right password", async () => {
    at(60 * 60_000); // the failures above are out of the window
    for (let i = 0; i < 5; i++) {
      const ctx = i % 2 ? a : b;
      expect((await thrown(signIn(ctx, { username: "chi", password: `sai lần thứ ${i}!!`, address: `10.0.1.${i}` }))).kind).to.equal("unauthenticated");
      at(60_000);
    }
    const throttled = await thrown(signIn(a, { username: "chi", password: PASSWORD, address: "10.0.2.1" }));
    expect(throttled.kind).to.equal("throttled");
    const wait = (throttled.details as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(wait).to.be.within(9 * 60, 11 * 60); // the first failure was 5 minutes ago
    expect((await listAudit(a.storage.db, { limit: 5 })).map((e) => e.action)).to.include("session.throttled");
    at(wait * 1000 + 1000);
    expect((await signIn(b, { username: "chi", password: PASSWORD, address: "10.0.2.1" })).session.username).to.equal("chi");
  });

  it("makes an address wait after its failures (8 here), whichever user names it tries", async () => {
    at(60 * 60_000);
    for (let i = 0; i < 8; i++) await thrown(signIn(i % 2 ? a : b, { username: `ai.do.${i}`, password: "đoán mò mà thôi", address: "10.9.9.9" }));
    expect((await thrown(signIn(a, { username: "an", password: PASSWORD, address: "10.9.9.9" }))).kind).to.equal("throttled");
    expect((await signIn(a, { username: "an", password: PASSWORD, address: "10.9.9.8" })).session.username, "another address").to.equal("an");
  });

  it("counts attempts sent at once: 20 parallel guesses for one user name check at most 5 passwords", async () => {
    at(60 * 60_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => thrown(signIn(i % 2 ? a : b, { username: "chi", password: `đoán song song ${i}!!`, address: `10.7.0.${i}` }))),
    );
    const kinds = results.map((e) => e.kind);
    expect(kinds.filter((k) => k === "unauthenticated").length, kinds.join(",")).to.be.at.most(5);
    expect(kinds.every((k) => k === "unauthenticated" || k === "throttled" || k === "unavailable"), kinds.join(",")).to.equal(true);
    at(60 * 60_000);
    expect((await signIn(a, { username: "chi", password: PASSWORD, address: "10.7.1.1" })).session.username).to.equal("chi");
  });

  it("checks CSRF tokens: per secret and per purpose; a visitor's secret comes from the node's key", () => {
    const token = csrfToken("secret-1");
    expect(csrfTokenMatches("secret-1", token)).to.equal(true);
    expect(csrfTokenMatches("secret-2", token)).to.equal(false);
    expect(csrfTokenMatches("secret-1", token, "language")).to.equal(false);
    expect(csrfTokenMatches("secret-1", undefined)).to.equal(false);
    expect(csrfTokenMatches("secret-1", `${token}x`)).to.equal(false);
    expect(visitorSecret(a, "v1")).to.equal(visitorSecret(b, "v1")).and.not.equal(visitorSecret(a, "v2"));
  });
});
