// People who sign in to the pages: `bin/edoc user add|list|disable|passwd` (the UI contract's
// commands) as real processes on a real database, and the sign-in check the pages will call.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { checkCredentials, loadConfig, openContext } from "../app/index.ts";
import { onEachDatabase } from "./helpers/db.ts";

const EDOC = fileURLToPath(new URL("../bin/edoc", import.meta.url));
const ORGAN = "000.00.00.Z31";

function edoc(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(EDOC, args, { env }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
    child.stdin!.end(input ?? "");
  });
}

onEachDatabase("users: edoc user commands and signing in", (database) => {
  let env: NodeJS.ProcessEnv;
  const signIn = async (username: string, password: string) => {
    const ctx = await openContext(loadConfig(env), pino({ level: "silent" }));
    try {
      return await checkCredentials(ctx, username, password);
    } finally {
      await ctx.close();
    }
  };

  before(async () => {
    const o = database().options();
    env = { PATH: process.env.PATH, HOME: process.env.HOME, EDOC_DATA_DIR: o.dataDir, EDOC_PUBLIC_URL: "http://127.0.0.1:18099" };
    if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
    if (o.schema) env.EDOC_DB_SCHEMA = o.schema;
    expect((await edoc(env, ["agency", "add", "--organ-id", ORGAN, "--name", "Sở Thử nghiệm", "--dev"])).code).to.equal(0);
  });

  it("user add reads the password from standard input and prints nothing secret; the user can sign in", async () => {
    const r = await edoc(env, ["user", "add", "--organ-id", ORGAN, "--role", "clerk", "--username", "Nguyễn.An", "--full-name", "Nguyễn Văn An"], "mật khẩu rất dài\n");
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("nguyễn.an").and.not.include("mật khẩu");
    const caller = await signIn("NGUYỄN.AN", "mật khẩu rất dài");
    expect(caller).to.include({ organId: ORGAN, role: "clerk", name: "Nguyễn Văn An" });
    expect(caller!.actor).to.match(/^user:\d+$/);
    expect(await signIn("nguyễn.an", "mật khẩu sai rồi")).to.equal(null);
    expect(await signIn("không.có", "mật khẩu rất dài")).to.equal(null);
    const list = await edoc(env, ["user", "list"]);
    expect(list.stdout).to.include(`nguyễn.an  Nguyễn Văn An  clerk  ${ORGAN}`);
  });

  it("user add refuses bad input with exit 2 and a sentence; a taken name is refused", async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [["--organ-id", ORGAN, "--role", "boss", "--username", "x"], "mật khẩu rất dài", /--role "boss" is not a role/],
      [["--organ-id", ORGAN, "--role", "clerk", "--username", "short"], "ngắn", /--password: 10 to 200 characters/],
      [["--organ-id", "000.00.00.Z77", "--role", "clerk", "--username", "ai.do"], "mật khẩu rất dài", /not an agency of this node/],
      [["--organ-id", ORGAN, "--role", "clerk", "--username", "nguyễn.an"], "mật khẩu rất dài", /is taken/],
      [["--organ-id", ORGAN, "--role", "clerk", "--username", "a b"], "mật khẩu rất dài", /--username: 1 to 64 letters/],
    ];
    for (const [args, password, message] of cases) {
      const r = await edoc(env, ["user", "add", ...args], password);
      expect(r.code, args.join(" ")).to.equal(2);
      expect(r.stderr, args.join(" ")).to.match(message);
    }
  });

  it("user passwd changes the password; user disable stops signing in; both are audited", async () => {
    expect((await edoc(env, ["user", "passwd", "--username", "nguyễn.an", "--password", "mật khẩu mới tinh"])).code).to.equal(0);
    expect(await signIn("nguyễn.an", "mật khẩu rất dài")).to.equal(null);
    expect(await signIn("nguyễn.an", "mật khẩu mới tinh")).to.not.equal(null);
    expect((await edoc(env, ["user", "disable", "--username", "nguyễn.an"])).code).to.equal(0);
    expect(await signIn("nguyễn.an", "mật khẩu mới tinh")).to.equal(null);
    expect((await edoc(env, ["user", "list"])).stdout).to.include("disabled");
    const audit = await edoc(env, ["audit", "list"]);
    expect(audit.stdout).to.match(/cli:\S+\s+user\.add\s+000\.00\.00\.Z31/).and.match(/user\.password/).and.match(/user\.disable/);
  });
});
