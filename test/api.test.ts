// The HTTP API (/api/v1) over real HTTP on 127.0.0.1, on SQLite and PostgreSQL: one node hosting
// two agencies (A = 000.00.00.G22, B = 000.00.00.H41) and knowing one remote agency.
//   - who may do what: every caller (none, malformed, unknown, revoked, each role of A and of B)
//     against every endpoint, each cell checking the status code and that nothing changed;
//   - bad input at every door, each answered with a clear message and nothing stored;
//   - the happy paths: sending with Vietnamese file names, reading back byte-exact, searching
//     without diacritics, statuses, verification, evidence, the registry, the OpenAPI description.
import { expect } from "chai";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { addCrl, addTrustAnchors, tokenCaller } from "../app/index.ts";
import { parseCrl, signStatus, verifyPacket } from "../signing/index.ts";
import { createCrl, crlToPem, issueCertificate } from "../signing/testing.ts";
import { addStatus, blobBytes, insertDocument, putBlob, revokeToken, type Role } from "../storage/index.ts";
import { API_ROUTES, apiRoutes } from "../server/api.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { pack, RECIPIENT, sampleEdoc, SENDER, testPki, zipBomb } from "../fixtures/index.ts";
import { startNode, testIdentity, type TestNode } from "./helpers/node.ts";

const A = SENDER; // 000.00.00.G22
const B = RECIPIENT; // 000.00.00.H41
const REMOTE = "000.00.00.K09";
const STRANGER = "000.00.00.X01";
const MAX_UPLOAD = 64 * 1024;
const MAX_PACKET = 512 * 1024;

const TABLES = [
  "documents",
  "document_recipients",
  "attachments",
  "search_terms",
  "statuses",
  "deliveries",
  "blobs",
  "blob_chunks",
  "registry",
  "audit_log",
  "local_agencies",
  "tokens",
] as const;

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json: any;
}

onEachDatabase("HTTP API /api/v1", (database) => {
  let t: TestNode;
  let seq = 0;
  const callers: Record<string, Record<string, string> | undefined> = {};

  // ---- helpers ------------------------------------------------------------------------------

  async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: BodyInit } = {}): Promise<Reply> {
    const res = await fetch(`${t.url}${path}`, { method, headers: init.headers, body: init.body });
    const body = Buffer.from(await res.arrayBuffer());
    let json: any;
    if ((res.headers.get("content-type") ?? "").includes("json")) json = JSON.parse(body.toString("utf8"));
    return { status: res.status, headers: res.headers, body, json };
  }
  const api = (method: string, path: string, init: { headers?: Record<string, string>; body?: BodyInit } = {}) => call(method, `/api/v1${path}`, init);
  const as = (organId: string, role: Role) => t.auth(organId, role);
  const withJson = (auth: Record<string, string> | undefined, value: unknown) => ({
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(value),
  });

  function form(metadata: unknown, files: Array<{ name: string; bytes: Buffer; type?: string }>, field = "files"): FormData {
    const fd = new FormData();
    if (metadata !== undefined) fd.append("metadata", typeof metadata === "string" ? metadata : JSON.stringify(metadata));
    for (const f of files) fd.append(field, new Blob([new Uint8Array(f.bytes)], f.type ? { type: f.type } : {}), f.name);
    return fd;
  }

  function metadata(overrides: Record<string, unknown> = {}) {
    seq++;
    return {
      To: [B, REMOTE],
      Code: `${seq}/QĐ-VPCP`,
      Subject: `Quyết định số ${seq} về việc ban hành Quy chế công tác văn thư`,
      Content: "Đề nghị các đơn vị thực hiện nghiêm túc.",
      DocumentType: { Type: 1, TypeName: "Quyết định" },
      PromulgationInfo: { Place: "Hà Nội" },
      SignerInfo: { Competence: "KT. BỘ TRƯỞNG", Position: "Thứ trưởng", FullName: "Nguyễn Văn Đức" },
      ...overrides,
    };
  }

  const pdf = (text: string) => Buffer.from(`%PDF-1.4\n% ${text}\n%%EOF\n`);

  async function send(auth: Record<string, string> | undefined, meta: unknown, files = [{ name: "Quyết định.pdf", bytes: pdf("qd") }]): Promise<Reply> {
    return api("POST", "/documents", { headers: auth, body: form(meta, files) });
  }

  /** Row counts of every table, and the files left in the upload and temporary folders. */
  async function snapshot(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of TABLES) out[table] = Number((await t.node.storage.db(table).count({ n: "*" }))[0].n);
    const registry = await t.node.storage.db("registry").orderBy("organ_id");
    out.registryHash = parseInt(createHash("sha256").update(JSON.stringify(registry.map((r) => ({ ...r, updated_at: String(r.updated_at) })))).digest("hex").slice(0, 12), 16);
    for (const dir of ["uploads", "tmp"]) {
      const path = join(t.node.config.dataDir, dir);
      out[`files:${dir}`] = existsSync(path) ? readdirSync(path).length : 0;
    }
    return out;
  }

  async function expectNothingChanged(before: Record<string, number>, what: string) {
    expect(await snapshot(), `${what}: nothing may change`).to.deep.equal(before);
  }

  /** A received document of agency `to`, stored as the inbound door would store it. */
  async function receive(from = A, to = B, code = `${++seq}/CV-VPCP`, attachmentName = "Công văn đến.pdf"): Promise<string> {
    const base = sampleEdoc({}, [attachmentName]);
    const edoc = {
      ...base,
      header: { ...base.header, From: { OrganId: from, OrganName: "Văn phòng Chính phủ" }, To: [{ OrganId: to, OrganName: "UBND tỉnh Nghệ An" }], Code: { CodeNumber: code.split("/")[0], CodeNotation: code.split("/")[1] }, DocumentId: `${from},2026/11/20,${code}` },
    };
    const file = pdf("công văn đến");
    const bytes = await pack(edoc, [file], testIdentity(from));
    const { report } = await verifyPacket({ bytes }, await t.node.trust());
    expect(report.valid, report.errors.join("; ")).to.equal(true);
    const id = `in-${createHash("sha256").update(code).digest("hex").slice(0, 20)}`;
    const identity = await t.node.identity(to);
    const receipt = signStatus(
      {
        kind: "status",
        header: {
          From: { OrganId: to, OrganName: "UBND tỉnh Nghệ An" },
          ResponseFor: { OrganId: from, Code: code, PromulgationDate: "2026/11/20", DocumentId: edoc.header.DocumentId },
          StatusCode: "01",
          Description: "Đã đến",
          Timestamp: "2026/11/20 10:00:00",
        },
      },
      identity,
    );
    await t.node.storage.db.transaction(async (trx) => {
      const packet = await putBlob(trx, t.node.storage.blobs, bytes);
      const att = await putBlob(trx, t.node.storage.blobs, file);
      await insertDocument(trx, {
        id,
        direction: "in",
        localOrgan: to,
        packet,
        header: edoc.header,
        bussiness: edoc.bussiness,
        report,
        attachments: [{ name: edoc.attachments[0].AttachmentName, contentType: "application/pdf", blob: att }],
        status: "received",
      });
      await addStatus(trx, { document: id, code: "01", from: to, to: from, direction: "sent", packet: await putBlob(trx, t.node.storage.blobs, receipt), description: "Đã đến" });
    });
    return id;
  }

  const dispositionName = (header: string | null) => {
    const m = /filename\*=UTF-8''([^;]+)/.exec(header ?? "");
    return m ? decodeURIComponent(m[1]) : null;
  };

  // ---- the node -----------------------------------------------------------------------------

  before(async function () {
    this.timeout(60_000);
    t = await startNode({
      database: database(),
      organs: [
        { organId: A, name: "Văn phòng Chính phủ" },
        { organId: B, name: "UBND tỉnh Nghệ An" },
      ],
      registry: [{ organId: REMOTE, name: "Bộ Tư pháp", endpoint: "http://127.0.0.1:9", certificates: [testIdentity(REMOTE, "Bộ Tư pháp").certificate] }],
      config: { maxUploadBytes: MAX_UPLOAD, maxPacketBytes: MAX_PACKET },
    });
    const revoked = await t.token(A, "clerk", "revoked clerk");
    const row = await t.node.storage.db("tokens").where({ name: "revoked clerk" }).first();
    await revokeToken(t.node.storage.db, row.id);
    Object.assign(callers, {
      "no token": undefined,
      "malformed header": { authorization: `Token ${t.tokens[A].clerk}` },
      "empty bearer": { authorization: "Bearer " },
      "unknown token": { authorization: "Bearer edoc_thisTokenWasNeverIssuedToAnyoneAtAll000000000" },
      "revoked token": { authorization: `Bearer ${revoked}` },
      "clerk A": as(A, "clerk"),
      "archivist A": as(A, "archivist"),
      "admin A": as(A, "admin"),
      "clerk B": as(B, "clerk"),
      "archivist B": as(B, "archivist"),
      "admin B": as(B, "admin"),
    });
  });
  after(async () => t?.close());

  // ---- authentication -----------------------------------------------------------------------

  describe("authentication", () => {
    it("answers 401 with a clear message and a WWW-Authenticate challenge, the same for unknown and revoked tokens", async () => {
      const none = await api("GET", "/agencies");
      expect(none.status).to.equal(401);
      expect(none.json.error).to.match(/Authorization: Bearer/);
      expect(none.headers.get("www-authenticate")).to.equal('Bearer realm="edoc"');
      const malformed = await api("GET", "/agencies", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
      expect(malformed.status).to.equal(401);
      expect(malformed.json.error).to.match(/must be "Bearer/);
      const unknown = await api("GET", "/agencies", { headers: callers["unknown token"] });
      const revoked = await api("GET", "/agencies", { headers: callers["revoked token"] });
      expect([unknown.status, revoked.status]).to.deep.equal([401, 401]);
      expect(revoked.json).to.deep.equal(unknown.json);
      expect(revoked.headers.get("www-authenticate")).to.include('error="invalid_token"');
      expect(Object.keys(revoked.json)).to.deep.equal(["error"]);
    });

    it("answers 401 before reading an upload, and keeps nothing", async () => {
      const before = await snapshot();
      const res = await send(callers["unknown token"], metadata());
      expect(res.status).to.equal(401);
      await expectNothingChanged(before, "upload with an unknown token");
    });
  });

  // ---- the permission table -----------------------------------------------------------------

  describe("who may do what", () => {
    let docA: string; // sent by A
    let inA: string; // received by A
    let docB: string; // sent by B
    let packetA: Buffer;
    let victim: number; // a token of A's, revoked by A's admin

    before(async function () {
      this.timeout(60_000);
      victim = await t.tokenId(A, "clerk", "to be revoked");
      const a = await send(as(A, "clerk"), metadata());
      expect(a.status, JSON.stringify(a.json)).to.equal(201);
      docA = a.json.id;
      const b = await send(as(B, "clerk"), metadata({ To: [A], Code: `${seq}/UBND-VP` }));
      expect(b.status, JSON.stringify(b.json)).to.equal(201);
      docB = b.json.id;
      inA = await receive(B, A);
      packetA = (await api("GET", `/documents/${docA}/envelope`, { headers: as(A, "clerk") })).body;
    });

    type Cell = number | { status: number; check?: (r: Reply) => unknown };
    interface Row {
      endpoint: string;
      /** Does a success change state (then every refusal must leave everything as it was)? */
      request: (auth: Record<string, string> | undefined, caller: string) => Promise<Reply>;
      expect: Record<string, Cell>;
    }
    const unauth = { "no token": 401, "malformed header": 401, "empty bearer": 401, "unknown token": 401, "revoked token": 401 };
    const readers = (ok: Cell, other: Cell = 404) => ({
      ...unauth,
      "clerk A": ok,
      "archivist A": ok,
      "admin A": 403,
      "clerk B": other,
      "archivist B": other,
      "admin B": 403,
    });
    const everyone = (ok: Cell) => ({ ...unauth, "clerk A": ok, "archivist A": ok, "admin A": ok, "clerk B": ok, "archivist B": ok, "admin B": ok });
    const nodeAdminsOnly = (r: Reply) => expect(r.json.error).to.match(new RegExp(`only the node administrators \\(the administrators of ${A.replace(/\./g, "\\.")}`));
    const adminsOnly = (a: Cell, b: Cell) => ({ ...unauth, "clerk A": 403, "archivist A": 403, "admin A": a, "clerk B": 403, "archivist B": 403, "admin B": b });

    const rows = (): Row[] => [
      {
        endpoint: "GET /documents",
        request: (auth) => api("GET", "/documents?pageSize=200", { headers: auth }),
        expect: {
          ...readers({ status: 200, check: (r) => expect(r.json.items.map((d: { id: string }) => d.id)).to.include.members([docA, inA]).and.not.include(docB) }),
          "clerk B": { status: 200, check: (r) => expect(r.json.items.map((d: { id: string }) => d.id)).to.include(docB).and.not.include.members([docA]) },
          "archivist B": { status: 200, check: (r) => expect(r.json.items.every((d: { localOrganId: string }) => d.localOrganId === B)).to.equal(true) },
        },
      },
      {
        endpoint: "GET /documents/:id",
        request: (auth) => api("GET", `/documents/${docA}`, { headers: auth }),
        expect: readers({ status: 200, check: (r) => expect(r.json.id).to.equal(docA) }),
      },
      {
        endpoint: "GET /documents/:id (received)",
        request: (auth) => api("GET", `/documents/${inA}`, { headers: auth }),
        expect: readers({ status: 200, check: (r) => expect(r.json.direction).to.equal("in") }),
      },
      {
        endpoint: "GET /documents/:id/envelope",
        request: (auth) => api("GET", `/documents/${docA}/envelope`, { headers: auth }),
        expect: readers({ status: 200, check: (r) => expect(r.body.equals(packetA)).to.equal(true) }),
      },
      {
        endpoint: "GET /documents/:id/attachments/:n",
        request: (auth) => api("GET", `/documents/${docA}/attachments/1`, { headers: auth }),
        expect: readers({ status: 200, check: (r) => expect(r.body.equals(pdf("qd"))).to.equal(true) }),
      },
      {
        endpoint: "GET /documents/:id/evidence",
        request: (auth) => api("GET", `/documents/${docA}/evidence`, { headers: auth }),
        expect: readers({ status: 200, check: (r) => expect(r.body.subarray(0, 4).toString("latin1")).to.equal("PK\x03\x04") }),
      },
      {
        endpoint: "POST /documents/:id/status",
        request: (auth) => api("POST", `/documents/${docA}/status`, withJson(auth, { code: "13", description: "Đề nghị lấy lại văn bản" })),
        expect: {
          ...readers(0),
          "clerk A": { status: 200, check: (r) => expect(r.json.statuses.map((s: { code: string }) => s.code)).to.deep.equal(["13", "13"]) },
          "archivist A": 403,
          "archivist B": 403,
        },
      },
      {
        endpoint: "POST /documents/:id/resend",
        request: (auth) => api("POST", `/documents/${docA}/resend`, withJson(auth, {})),
        expect: {
          ...readers(0),
          // no worker runs here, so nothing has failed: the clerk who may resend hears why not
          "clerk A": { status: 409, check: (r) => expect(r.json.error).to.include("nothing to send again") },
          "archivist A": 403,
          "archivist B": 403,
        },
      },
      {
        endpoint: "POST /documents",
        request: (auth, caller) => send(auth, metadata(caller.endsWith("B") ? { To: [A] } : {})),
        expect: {
          ...unauth,
          "clerk A": { status: 201, check: (r) => expect(r.json.from).to.equal(A) },
          "archivist A": 403,
          "admin A": 403,
          "clerk B": { status: 201, check: (r) => expect(r.json.from).to.equal(B) },
          "archivist B": 403,
          "admin B": 403,
        },
      },
      {
        endpoint: "POST /documents as another agency",
        request: (auth) => send(auth, metadata({ From: A, To: [REMOTE] })),
        expect: { ...unauth, "clerk A": 201, "archivist A": 403, "admin A": 403, "clerk B": 403, "archivist B": 403, "admin B": 403 },
      },
      {
        endpoint: "POST /verify",
        request: (auth) => api("POST", "/verify", { headers: { ...auth, "content-type": "application/xml" }, body: new Uint8Array(packetA) }),
        expect: everyone({ status: 200, check: (r) => expect(r.json.indication).to.equal("TOTAL_PASSED") }),
      },
      {
        endpoint: "GET /agencies",
        request: (auth) => api("GET", "/agencies", { headers: auth }),
        expect: everyone({ status: 200, check: (r) => expect(r.json.items.map((a: { organId: string }) => a.organId)).to.include.members([A, B, REMOTE]) }),
      },
      {
        endpoint: "GET /agencies/:organId",
        request: (auth) => api("GET", `/agencies/${REMOTE}`, { headers: auth }),
        expect: everyone({ status: 200, check: (r) => expect(r.json).to.include({ organId: REMOTE, local: false }) }),
      },
      {
        endpoint: "POST /agencies",
        request: (auth, caller) =>
          api("POST", "/agencies", withJson(auth, { organId: `000.00.00.P${caller.endsWith("B") ? "02" : "01"}`, name: "Sở Nội vụ", endpoint: "https://edoc.example.gov.vn" })),
        // issue 8: remote entries are shared by every local agency, so only node administrators
        // (the admins of the first local agency, A) change them; B's admin used to get 201 here
        expect: adminsOnly({ status: 201, check: (r) => expect(r.json.organId).to.equal("000.00.00.P01") }, { status: 403, check: nodeAdminsOnly }),
      },
      {
        endpoint: "PUT /agencies/:organId",
        request: (auth, caller) => api("PUT", `/agencies/${REMOTE}`, withJson(auth, { name: `Bộ Tư pháp (${caller})`, endpoint: "http://127.0.0.1:9", certificates: [testIdentity(REMOTE).certificate.toString()] })),
        // issue 8: was 200 for B's admin (who could re-point A's correspondent)
        expect: adminsOnly({ status: 200, check: (r) => expect(r.json.name).to.equal("Bộ Tư pháp (admin A)") }, { status: 403, check: nodeAdminsOnly }),
      },
      {
        endpoint: "PUT /agencies/:organId of a local agency",
        request: (auth) => api("PUT", `/agencies/${A}`, withJson(auth, { name: "Văn phòng Chính phủ", endpoint: t.url, certificates: [testPki().sender.certificate.toString()] })),
        expect: adminsOnly(200, 403),
      },
      {
        endpoint: "POST /agencies/:organId/confirm-certificate",
        request: (auth) => api("POST", `/agencies/${REMOTE}/confirm-certificate`, withJson(auth, { fingerprint: "ab".repeat(32) })),
        // no certificate of REMOTE waits (none was seen in a packet from the national axle)
        expect: adminsOnly(409, { status: 403, check: nodeAdminsOnly }),
      },
      {
        endpoint: "GET /tokens",
        request: (auth) => api("GET", "/tokens", { headers: auth }),
        expect: adminsOnly(
          { status: 200, check: (r) => expect(r.json.items.every((t: { organId: string; token?: string }) => t.organId === A && t.token === undefined)).to.equal(true) },
          { status: 200, check: (r) => expect(r.json.items.every((t: { organId: string }) => t.organId === B)).to.equal(true) },
        ),
      },
      {
        endpoint: "POST /tokens",
        request: (auth, caller) => api("POST", "/tokens", withJson(auth, { organId: caller.endsWith("B") ? B : A, role: "archivist", name: `by ${caller}` })),
        expect: adminsOnly(
          { status: 201, check: (r) => expect(r.json).to.include({ organId: A, role: "archivist", name: "by admin A" }).and.have.property("token").that.matches(/^edoc_/) },
          { status: 201, check: (r) => expect(r.json).to.include({ organId: B, name: "by admin B" }) },
        ),
      },
      {
        endpoint: "DELETE /tokens/:tokenId",
        // admin B may not revoke admin A's tokens: to B they do not exist
        request: (auth) => api("DELETE", `/tokens/${victim}`, { headers: auth }),
        expect: adminsOnly({ status: 200, check: (r) => expect(r.json.revokedAt).to.be.a("string") }, 404),
      },
      {
        endpoint: "GET /audit",
        request: (auth) => api("GET", "/audit?limit=5", { headers: auth }),
        expect: adminsOnly(
          {
            status: 200,
            check: (r) => {
              expect(r.json.items.length).to.be.within(1, 5);
              expect(r.json.items.every((e: { organId: string | null }) => e.organId === A)).to.equal(true);
            },
          },
          { status: 200, check: (r) => expect(r.json.items.every((e: { organId: string | null }) => e.organId === B)).to.equal(true) },
        ),
      },
      {
        endpoint: "DELETE /agencies/:organId",
        request: (auth, caller) => api("DELETE", `/agencies/000.00.00.P0${caller.endsWith("B") ? 2 : 1}`, { headers: auth }),
        // issue 8: was 204 for B's admin
        expect: adminsOnly(204, { status: 403, check: nodeAdminsOnly }),
      },
    ];

    it("covers every route of the API router", () => {
      const router = apiRoutes(t.node) as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
      const routes = router.stack.filter((l) => l.route).flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${l.route!.path}`));
      const covered = new Set(rows().map((r) => r.endpoint.split(" ").slice(0, 2).join(" ")));
      expect(routes.filter((r) => !covered.has(r))).to.deep.equal([]);
    });

    it("answers every caller on every endpoint as the table says, and refusals change nothing", async function () {
      this.timeout(120_000);
      const failures: string[] = [];
      for (const row of rows()) {
        for (const [caller, cell] of Object.entries(row.expect)) {
          const want = typeof cell === "number" ? { status: cell } : cell;
          const before = await snapshot();
          const res = await row.request(callers[caller], caller);
          const label = `${row.endpoint} by ${caller}`;
          if (res.status !== want.status) {
            failures.push(`${label}: ${res.status} ${res.body.toString("utf8").slice(0, 200)}, expected ${want.status}`);
            continue;
          }
          if (res.status >= 400) {
            if (typeof res.json?.error !== "string" || !res.json.error) failures.push(`${label}: no error message`);
            const after = await snapshot();
            if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${label}: refused, yet something changed`);
          }
          try {
            await want.check?.(res);
          } catch (err) {
            failures.push(`${label}: ${(err as Error).message}`);
          }
        }
      }
      expect(failures).to.deep.equal([]);
    });

    it("answers 404 for another agency's document exactly as for a document that does not exist", async () => {
      const other = await api("GET", `/documents/${docA}`, { headers: as(B, "clerk") });
      const missing = await api("GET", "/documents/00000000-0000-4000-8000-000000000000", { headers: as(B, "clerk") });
      expect(other.status).to.equal(404);
      expect(missing.status).to.equal(404);
      expect(other.json.error.replace(docA, "X")).to.equal(missing.json.error.replace("00000000-0000-4000-8000-000000000000", "X"));
      for (const path of ["/envelope", "/attachments/1", "/evidence"]) {
        expect((await api("GET", `/documents/${docA}${path}`, { headers: as(B, "archivist") })).status, path).to.equal(404);
      }
    });

    it("tells an administrator why documents are not theirs", async () => {
      const res = await api("GET", "/documents", { headers: as(A, "admin") });
      expect(res.status).to.equal(403);
      expect(res.json.error).to.match(/administrator.*may not read documents.*clerk.*archivist/);
    });
  });

  // ---- sending --------------------------------------------------------------------------------

  describe("POST /documents", () => {
    it("sends a document with two Vietnamese-named attachments: 201, queued for each recipient, readable back byte-exact", async () => {
      const files = [
        { name: "Quyết định 45 — Phụ lục đính kèm.pdf", bytes: pdf("Quyết định 45"), type: "application/pdf" },
        { name: "Danh sách đơn vị Đắk Lắk.docx", bytes: Buffer.from("PK\x03\x04 not really a docx, but bytes are bytes ơư", "utf8") },
      ];
      const meta = metadata({ Subject: "Quyết định về việc ban hành Quy chế văn thư tỉnh Đắk Lắk" });
      const res = await send(as(A, "clerk"), meta, files);
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      const rec = res.json;
      expect(res.headers.get("location")).to.equal(`/api/v1/documents/${rec.id}`);
      expect(rec).to.include({ direction: "out", from: A, code: meta.Code, subject: meta.Subject });
      expect(rec.to).to.have.members([B, REMOTE]);
      expect(rec.deliveries.map((d: { organId: string; state: string; attempts: number }) => [d.organId, d.state, d.attempts])).to.have.deep.members([
        [B, "queued", 0],
        [REMOTE, "queued", 0],
      ]);
      expect(rec.statuses).to.deep.equal([]);
      expect(rec.attachments.map((a: { name: string }) => a.name)).to.deep.equal(files.map((f) => f.name));
      expect(rec.attachments.map((a: { contentType: string }) => a.contentType)).to.deep.equal([
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      ]);
      expect(rec.verification).to.include({ valid: true, indication: "TOTAL_PASSED" });

      const got = await api("GET", `/documents/${rec.id}`, { headers: as(A, "archivist") });
      expect(got.status).to.equal(200);
      expect(got.json).to.deep.equal(rec);

      const envelope = await api("GET", `/documents/${rec.id}/envelope`, { headers: as(A, "clerk") });
      expect(envelope.status).to.equal(200);
      expect(envelope.headers.get("content-type")).to.equal("application/xml");
      const row = await t.node.storage.db("documents").where({ id: rec.id }).first();
      expect(envelope.body.equals(await blobBytes(t.node.storage.db, t.node.storage.blobs, row.packet_sha256))).to.equal(true);
      const { report } = await verifyPacket({ bytes: envelope.body }, await t.node.trust());
      expect(report.valid, report.errors.join("; ")).to.equal(true);
      expect(report.documentId).to.equal(rec.documentId);

      for (const [i, f] of files.entries()) {
        const att = await api("GET", `/documents/${rec.id}/attachments/${i + 1}`, { headers: as(A, "archivist") });
        expect(att.status).to.equal(200);
        expect(att.body.equals(f.bytes), f.name).to.equal(true);
        expect(dispositionName(att.headers.get("content-disposition"))).to.equal(f.name);
        expect(att.headers.get("content-disposition")).to.match(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
        expect(att.headers.get("content-type")).to.equal(rec.attachments[i].contentType);
        expect(att.headers.get("x-content-type-options")).to.equal("nosniff");
      }
      expect(
        (await api("GET", `/documents/${rec.id}/attachments/1`, { headers: as(A, "clerk") })).headers.get("content-disposition"),
      ).to.include('filename="Quyet dinh 45 — Phu luc dinh kem.pdf"'.replace("—", "_"));
      const none = await api("GET", `/documents/${rec.id}/attachments/3`, { headers: as(A, "clerk") });
      expect(none.status).to.equal(404);
      expect(none.json.error).to.include("attachments 1 to 2");
      expect((await api("GET", `/documents/${rec.id}/attachments/x`, { headers: as(A, "clerk") })).status).to.equal(404);
      expect(await snapshot()).to.include({ "files:uploads": 0, "files:tmp": 0 });
    });

    it("stores file names in NFC, whatever form the client sent", async () => {
      const nfd = "Công văn số 7.pdf".normalize("NFD");
      const res = await send(as(A, "clerk"), metadata(), [{ name: nfd, bytes: pdf("nfd") }]);
      expect(res.status).to.equal(201);
      expect(res.json.attachments[0].name).to.equal("Công văn số 7.pdf".normalize("NFC"));
    });

    it("strips bidi controls from file names: the signed packet, the record and the download (issue 8)", async () => {
      const tricky = "Báo cáo\u202Efdp.exe"; // shows as "Báo cáoexe.pdf"
      const res = await send(as(A, "clerk"), metadata(), [{ name: tricky, bytes: pdf("rlo") }]);
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.json.attachments[0].name).to.equal("Báo cáofdp.exe");
      const packet = (await api("GET", `/documents/${res.json.id}/envelope`, { headers: as(A, "clerk") })).body.toString("utf8");
      expect(packet).to.include("Báo cáofdp.exe").and.not.include("\u202E");
      const file = await api("GET", `/documents/${res.json.id}/attachments/1`, { headers: as(A, "clerk") });
      expect(dispositionName(file.headers.get("content-disposition"))).to.equal("Báo cáofdp.exe");
      // a received packet keeps what its sender signed; this node shows the name without them
      const every = "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069";
      const id = await receive(B, A, undefined, `Tờ trình${every}.pdf`);
      const record = await api("GET", `/documents/${id}`, { headers: as(A, "clerk") });
      expect(record.json.attachments[0].name).to.equal("Tờ trình.pdf");
      const download = await api("GET", `/documents/${id}/attachments/1`, { headers: as(A, "clerk") });
      expect(dispositionName(download.headers.get("content-disposition"))).to.equal("Tờ trình.pdf");
      expect(download.headers.get("content-disposition")).not.to.match(/%E2%80%AE|%E2%81%A6/i);
    });

    it("accepts To as Organization objects and a Code object", async () => {
      const res = await send(as(A, "clerk"), metadata({ To: [{ OrganId: B, OrganName: "Ủy ban nhân dân tỉnh Nghệ An" }], Code: { CodeNumber: "77", CodeNotation: "TB-VPCP" } }));
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.json.to).to.deep.equal([B]);
      expect(res.json.code).to.equal("77/TB-VPCP");
      expect(res.json.header.To[0].OrganName).to.equal("Ủy ban nhân dân tỉnh Nghệ An");
    });

    it("accepts dates as people write them (dd/mm/yyyy, yyyy-mm-dd) and stores edXML's yyyy/MM/dd", async () => {
      const res = await send(as(A, "clerk"), metadata({ PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "20/11/2026" }, DueDate: "5/12/2026" }));
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.json.promulgationDate).to.equal("2026-11-20");
      expect(res.json.header.PromulgationInfo.PromulgationDate).to.equal("2026/11/20");
      expect(res.json.header.DueDate).to.equal("2026/12/05");
      expect(res.json.documentId).to.include(",2026/11/20,");
      const iso = await send(as(A, "clerk"), metadata({ PromulgationInfo: { PromulgationDate: "2026-11-19" } }));
      expect(iso.status, JSON.stringify(iso.json)).to.equal(201);
      expect(iso.json.header.PromulgationInfo.PromulgationDate).to.equal("2026/11/19");
      const unreal = await send(as(A, "clerk"), metadata({ PromulgationInfo: { PromulgationDate: "31/02/2026" } }));
      expect(unreal.status).to.equal(400);
      expect(unreal.json.details.some((d: string) => /PromulgationDate "?2026\/02\/31"? is not a real calendar date/.test(d)), JSON.stringify(unreal.json)).to.equal(true);
    });

    it("refuses a second document with the same number on the same day (same DocumentId) with 409, storing nothing", async () => {
      const meta = metadata();
      expect((await send(as(A, "clerk"), meta)).status).to.equal(201);
      const before = await snapshot();
      const again = await send(as(A, "clerk"), { ...meta, Subject: "Bản gửi lại" });
      expect(again.status, again.body.toString()).to.equal(409);
      expect(again.json.error).to.match(/already sent a document with the same number/);
      await expectNothingChanged(before, "the same DocumentId again");
      // another agency may use the same number
      expect((await send(as(B, "clerk"), { ...meta, To: [A] })).status).to.equal(201);
    });

    it("Idempotency-Key: a request sent again answers the first one's document, once; the key for another document is refused", async () => {
      const meta = metadata();
      const key = randomUUID();
      const withKey = (k: string) => ({ ...as(A, "clerk"), "idempotency-key": k });
      const first = await api("POST", "/documents", { headers: withKey(key), body: form(meta, [{ name: "Quyết định.pdf", bytes: pdf("qd") }]) });
      expect(first.status, first.body.toString()).to.equal(201);
      expect(first.headers.get("idempotency-replayed")).to.equal(null);
      const before = await snapshot();
      // the client lost the answer and sends the same request again, and again at the same time
      const again = await Promise.all([1, 2].map(() => api("POST", "/documents", { headers: withKey(key), body: form(meta, [{ name: "Quyết định.pdf", bytes: pdf("qd") }]) })));
      for (const r of again) {
        expect(r.status, r.body.toString()).to.equal(201);
        expect(r.headers.get("idempotency-replayed")).to.equal("true");
        expect(r.headers.get("location")).to.equal(`/api/v1/documents/${first.json.id}`);
        expect(r.json).to.include({ id: first.json.id, documentId: first.json.documentId });
      }
      await expectNothingChanged(before, "the same request again with its key");
      expect(Number((await t.node.storage.db("deliveries").where({ document: first.json.id }).count({ n: "*" }))[0].n)).to.equal(2);
      // the same key for another document: refused, in Vietnamese too, nothing stored
      const other = await api("POST", "/documents", { headers: { ...withKey(key), "accept-language": "vi" }, body: form(metadata(), [{ name: "Khác.pdf", bytes: pdf("khác") }]) });
      expect(other.status, other.body.toString()).to.equal(409);
      expect(other.json.error).to.equal(`khóa Idempotency-Key này đã được dùng cho một văn bản khác (DocumentId ${first.json.documentId}); hãy dùng khóa mới cho văn bản mới`);
      await expectNothingChanged(before, "the key of another document");
      // without a key, the same document again is the 409 of a DocumentId already sent
      expect((await send(as(A, "clerk"), meta)).status).to.equal(409);
      // a key is one agency's: another agency's same key is another request
      expect((await api("POST", "/documents", { headers: { ...as(B, "clerk"), "idempotency-key": key }, body: form({ ...metadata(), To: [A] }, [{ name: "a.pdf", bytes: pdf("b") }]) })).status).to.equal(201);
      const bad = await api("POST", "/documents", { headers: withKey("two words"), body: form(metadata(), [{ name: "a.pdf", bytes: pdf("c") }]) });
      expect(bad.status).to.equal(400);
      expect(bad.json.error).to.match(/Idempotency-Key header must be 1 to 60 visible ASCII characters/);
    });

    describe("refuses bad input with a clear message and stores nothing", () => {
      const cases: Array<{ name: string; status: number; error: RegExp; details?: RegExp[]; request: () => Promise<Reply> }> = [
        {
          name: "malformed JSON metadata",
          status: 400,
          error: /"metadata" is not valid JSON/,
          request: () => send(as(A, "clerk"), '{"To": ["000.00.00.H41"], "Subject": "Quyết định'),
        },
        { name: "metadata that is a list", status: 400, error: /must be a JSON object/, request: () => send(as(A, "clerk"), "[1,2]") },
        // issue 8: these answered 500 (RangeError: Maximum call stack size exceeded)
        ...["To", "OtherInfo", "Extra"].map((field) => ({
          name: `metadata nested 100,000 deep in ${field}`,
          status: 400,
          error: /the document is not valid/,
          details: [/more than 32 levels deep/],
          request: () => send(as(A, "clerk"), JSON.stringify(metadata()).replace(/}$/, `,"${field}":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)),
        })),
        {
          name: "no metadata",
          status: 400,
          error: /"metadata" is missing/,
          request: () => api("POST", "/documents", { headers: as(A, "clerk"), body: form(undefined, [{ name: "a.pdf", bytes: pdf("a") }]) }),
        },
        {
          name: "metadata twice",
          status: 400,
          error: /once/,
          request: () => {
            const fd = form(metadata(), [{ name: "a.pdf", bytes: pdf("a") }]);
            fd.append("metadata", "{}");
            return api("POST", "/documents", { headers: as(A, "clerk"), body: fd });
          },
        },
        { name: "no files", status: 400, error: /at least one file/, request: () => send(as(A, "clerk"), metadata(), []) },
        {
          name: "missing fields",
          status: 400,
          error: /the document is not valid/,
          details: [/To: at least one recipient is required/, /Code\/CodeNumber is required/, /Subject is required/, /DocumentType is required/],
          request: () => send(as(A, "clerk"), {}),
        },
        {
          // the description says a list: a bare string is not taken as one recipient
          name: "To given as a string",
          status: 400,
          error: /the document is not valid/,
          details: [/To must be a list of organ ids or Organization objects/],
          request: () => send(as(A, "clerk"), metadata({ To: RECIPIENT })),
        },
        {
          name: "a bad organ id",
          status: 400,
          error: /not valid/,
          details: [/To\[1\]\/OrganId "not an organ id!" is not a valid organ id/],
          request: () => send(as(A, "clerk"), metadata({ To: ["not an organ id!"] })),
        },
        {
          name: "an unknown recipient",
          status: 400,
          error: /not valid/,
          details: [/To\[2\]: 000\.00\.00\.Z99 is not in the registry/],
          request: () => send(as(A, "clerk"), metadata({ To: [B, "000.00.00.Z99"] })),
        },
        {
          name: "a recipient listed twice and a subject too long",
          status: 400,
          error: /not valid/,
          details: [/listed more than once/, /Subject is 501 characters long/],
          request: () => send(as(A, "clerk"), metadata({ To: [B, B], Subject: "đ".repeat(501) })),
        },
        {
          name: "a promulgation date in the future",
          status: 400,
          error: /not valid/,
          details: [/PromulgationDate 2999\/01\/01 is in the future/],
          request: () => send(as(A, "clerk"), metadata({ PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "2999/01/01" } })),
        },
        {
          name: "a file over the node's limit",
          status: 413,
          error: /larger than this node accepts \(at most 65536 bytes per file\)/,
          request: () => send(as(A, "clerk"), metadata(), [{ name: "Bản đồ quy hoạch.pdf", bytes: Buffer.alloc(MAX_UPLOAD + 1, 0x41) }]),
        },
        {
          name: "a file in the wrong field",
          status: 400,
          error: /unexpected file field "file"/,
          request: () => api("POST", "/documents", { headers: as(A, "clerk"), body: form(metadata(), [{ name: "a.pdf", bytes: pdf("a") }], "file") }),
        },
        {
          name: "too many files",
          status: 400,
          error: /at most 100/,
          request: () => send(as(A, "clerk"), metadata(), Array.from({ length: 101 }, (_, i) => ({ name: `${i}.pdf`, bytes: pdf(String(i)) }))),
        },
        {
          name: "an unexpected form field",
          status: 400,
          error: /unexpected form field "subject"/,
          request: () => {
            const fd = form(metadata(), [{ name: "a.pdf", bytes: pdf("a") }]);
            fd.append("subject", "x");
            return api("POST", "/documents", { headers: as(A, "clerk"), body: fd });
          },
        },
        {
          name: "JSON instead of multipart",
          status: 415,
          error: /wrong content type "application\/json".*multipart\/form-data/,
          request: () => api("POST", "/documents", withJson(as(A, "clerk"), metadata())),
        },
        {
          name: "a form without files (urlencoded)",
          status: 415,
          error: /multipart\/form-data/,
          request: () => api("POST", "/documents", { headers: { ...as(A, "clerk"), "content-type": "application/x-www-form-urlencoded" }, body: "metadata=%7B%7D" }),
        },
        {
          name: "a broken multipart body",
          status: 400,
          error: /multipart body/,
          request: () =>
            api("POST", "/documents", {
              headers: { ...as(A, "clerk"), "content-type": "multipart/form-data; boundary=XYZ" },
              body: '--XYZ\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{}\r\n--XYZ\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n\r\nabc',
            }),
        },
        {
          name: "a clerk sending for another agency",
          status: 403,
          error: /you send for 000\.00\.00\.H41, not for 000\.00\.00\.G22/,
          request: () => send(as(B, "clerk"), metadata({ From: A, To: [REMOTE] })),
        },
      ];
      for (const c of cases) {
        it(`${c.name} → ${c.status}`, async () => {
          const before = await snapshot();
          const res = await c.request();
          expect(res.status, res.body.toString("utf8")).to.equal(c.status);
          expect(res.json.error).to.match(c.error);
          for (const d of c.details ?? []) {
            expect(res.json.details, `details: ${JSON.stringify(res.json.details)}`).to.be.an("array");
            expect(res.json.details.some((x: string) => d.test(x)), `${d} in ${JSON.stringify(res.json.details)}`).to.equal(true);
          }
          await expectNothingChanged(before, c.name);
        });
      }
    });
  });

  // ---- search ---------------------------------------------------------------------------------

  describe("GET /documents (search)", () => {
    let dakLak: string;
    let inB: string;
    before(async () => {
      const res = await send(
        as(B, "clerk"),
        metadata({ To: [A], Code: "12/TB-UBND", Subject: "Thông báo kết luận về dự án đường giao thông Đắk Lắk", DocumentType: { Type: 1, TypeName: "Thông báo" } }),
      );
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      dakLak = res.json.id;
      inB = await receive(A, B);
    });
    const search = async (query: string, organ = B) => {
      const res = await api("GET", `/documents?${query}`, { headers: as(organ, "archivist") });
      expect(res.status, `${query}: ${res.body}`).to.equal(200);
      return res.json as { items: Array<{ id: string; subject: string; direction: string; from: string }>; page: number; pageSize: number; hasMore: boolean };
    };
    const ids = async (query: string, organ = B) => (await search(query, organ)).items.map((d) => d.id);

    it("finds Vietnamese text without diacritics, whole words: quyet dinh → Quyết định, dak → Đắk (d for đ)", async () => {
      const found = await search(`q=${encodeURIComponent("quyet dinh")}`, A);
      expect(found.items.length).to.be.greaterThan(0);
      expect(found.items.every((d) => /quyết định/i.test(d.subject))).to.equal(true);
      expect(await ids("q=dak")).to.include(dakLak);
      expect(await ids(`q=${encodeURIComponent("ĐẮK lắk")}`)).to.include(dakLak);
      expect(await ids("q=duong+giao+thong")).to.deep.equal([dakLak]);
      expect(await ids(`q=${encodeURIComponent("đường giao")}`)).to.deep.equal([dakLak]);
      expect(await ids("q=12%2FTB-UBND")).to.deep.equal([dakLak]);
      expect(await ids("q=khong+co+van+ban+nay")).to.deep.equal([]);
    });

    it("matches the last word as the beginning of a word, and signer and attachment names", async () => {
      const res = await send(as(B, "clerk"), metadata({ To: [A], Subject: "Công văn về chế độ phụ cấp", SignerInfo: { FullName: "Lò Văn Pọng" } }), [{ name: "Bảng lương tháng mười.pdf", bytes: pdf("bảng lương") }]);
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      const payroll = res.json.id;
      expect(await ids(`q=${encodeURIComponent("phụ cấ")}`)).to.deep.equal([payroll]);
      expect(await ids("q=giao+th")).to.deep.equal([dakLak]);
      expect(await ids(`q=${encodeURIComponent("Đắ")}`)).to.include(dakLak);
      expect(await ids("q=dak+la")).to.include(dakLak);
      expect(await ids("q=pong")).to.deep.equal([payroll]);
      expect(await ids(`q=${encodeURIComponent("lò văn pọ")}`)).to.deep.equal([payroll]);
      expect(await ids("q=bang+luong+thang")).to.deep.equal([payroll]);
      expect(await ids("q=phu+cap+xyz")).to.deep.equal([]);
    });

    it("filters by direction, code, sender, recipient, status, type and dates", async () => {
      expect(await ids("direction=in")).to.include(inB).and.not.include(dakLak);
      expect(await ids("direction=out")).to.include(dakLak).and.not.include(inB);
      expect(await ids(`code=${encodeURIComponent("12/TB-UBND")}`)).to.deep.equal([dakLak]);
      expect(await ids(`sender=${A}`)).to.include(inB).and.not.include(dakLak);
      expect(await ids(`recipient=${A}&direction=out`)).to.include(dakLak);
      expect(await ids(`recipient=${REMOTE}`)).to.not.include(dakLak);
      expect(await ids("status=received")).to.include(inB).and.not.include(dakLak);
      expect(await ids("status=sent")).to.include(dakLak);
      expect(await ids(`type=${encodeURIComponent("Thông báo")}`)).to.deep.equal([dakLak]);
      expect(await ids("type=thong+bao")).to.deep.equal([dakLak]);
      expect(await ids(`type=${encodeURIComponent("THÔNG  BÁO")}`)).to.deep.equal([dakLak]);
      const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
      expect(await ids(`from=${today}&to=${today}`)).to.include.members([dakLak, inB]);
      const [y, m, d] = today.split("-");
      expect(await ids(`from=${encodeURIComponent(`${d}/${m}/${y}`)}&to=${encodeURIComponent(`${y}/${m}/${d}`)}`)).to.include.members([dakLak, inB]);
      expect(await ids(`from=${encodeURIComponent(`${+d}/${+m}/${y}`)}`)).to.include.members([dakLak, inB]);
      expect(await ids(`to=${encodeURIComponent("31/12/2019")}`)).to.deep.equal([]);
      expect(await ids("to=2020-01-01")).to.deep.equal([]);
      expect(await ids("from=2999-01-01")).to.deep.equal([]);
    });

    it("pages", async () => {
      const all = await ids("pageSize=200");
      expect(all.length).to.be.greaterThan(2);
      const first = await search("pageSize=1&page=1");
      const second = await search("pageSize=1&page=2");
      expect(first).to.include({ page: 1, pageSize: 1, hasMore: true });
      expect([first.items[0].id, second.items[0].id]).to.deep.equal(all.slice(0, 2));
      const last = await search(`pageSize=1&page=${all.length}`);
      expect(last.hasMore).to.equal(false);
      expect((await search(`pageSize=1&page=${all.length + 1}`)).items).to.deep.equal([]);
    });

    const bad: Array<[string, RegExp]> = [
      ["direction=sideways", /direction: "in" \(received\) or "out"/],
      ["from=2026-13-01", /from: a date in the form yyyy-mm-dd/],
      ["to=20261120", /to: a date in the form yyyy-mm-dd/],
      ["from=31%2F02%2F2026", /from: a date in the form yyyy-mm-dd \(or dd\/mm\/yyyy, yyyy\/mm\/dd\), not "31\/02\/2026"/],
      ["from=20%2F11%2F2026&to=2026-11-01", /from \(20\/11\/2026\) is after to \(2026-11-01\)/],
      ["from=2026-11-20&to=2026-11-01", /from \(2026-11-20\) is after to \(2026-11-01\)/],
      ["page=0", /page: a whole number from 1/],
      ["pageSize=1000", /pageSize: a whole number from 1 to 200/],
      ["sender=not%20an%20id", /sender: "not an id" is not an organ id/],
      ["status=done", /status: one of received, sent, 01/],
      ["subject=x", /unknown parameter "subject"/],
      ["q=a&q=b", /q: give it once/],
    ];
    for (const [query, message] of bad) {
      it(`refuses ?${query} with 400`, async () => {
        const res = await api("GET", `/documents?${query}`, { headers: as(B, "clerk") });
        expect(res.status).to.equal(400);
        expect(res.json.error).to.equal("the search parameters are not valid");
        expect(res.json.details.some((d: string) => message.test(d)), JSON.stringify(res.json.details)).to.equal(true);
      });
    }
  });

  // ---- statuses -------------------------------------------------------------------------------

  describe("POST /documents/:id/status", () => {
    let inB: string;
    let outB: string;
    before(async () => {
      inB = await receive(A, B);
      const res = await send(as(B, "clerk"), metadata({ To: [A] }));
      outB = res.json.id;
    });
    const status = (id: string, body: unknown, organ = B) => api("POST", `/documents/${id}/status`, withJson(as(organ, "clerk"), body));

    it("refuses a status out of order with 409 and stores nothing: 06 before 03", async () => {
      const before = await snapshot();
      const res = await status(inB, { code: "06" });
      expect(res.status).to.equal(409);
      expect(res.json.error).to.match(/needs the document accepted \(03\) first/);
      await expectNothingChanged(before, "06 before 03");
    });

    it("signs and queues 03, 05, 06 on a received document, back to the sender; then refuses 03 again (409)", async () => {
      for (const code of ["03", "05", "06"]) {
        const before = await snapshot();
        const res = await status(inB, { code, description: `Trạng thái ${code}: đã xử lý` });
        expect(res.status, JSON.stringify(res.json)).to.equal(200);
        expect(res.json.status).to.equal(code);
        expect(res.json.statuses.at(-1)).to.include({ code, from: B, to: A, direction: "sent", description: `Trạng thái ${code}: đã xử lý` });
        const after = await snapshot();
        expect(after.statuses - before.statuses).to.equal(1);
        expect(after.deliveries - before.deliveries).to.equal(1);
      }
      const q = await t.node.storage.db("deliveries").where({ document: inB, kind: "status" });
      expect(q.map((d) => [d.organ_id, d.state])).to.deep.equal([
        [A, "queued"],
        [A, "queued"],
        [A, "queued"],
      ]);
      const again = await status(inB, { code: "03" });
      expect(again.status).to.equal(409);
      expect(again.json.error).to.match(/already accepted/);
    });

    const bad: Array<{ name: string; status: number; error: RegExp; request: () => Promise<Reply> }> = [
      { name: "an unknown code", status: 400, error: /the status is not valid/, request: () => status(inB, { code: "99" }) },
      { name: "the receipt code 01", status: 400, error: /the status is not valid/, request: () => status(inB, { code: "01" }) },
      { name: "a numeric code", status: 400, error: /the status is not valid/, request: () => status(inB, { code: 3 }) },
      { name: "no code", status: 400, error: /the status is not valid/, request: () => status(inB, { description: "x" }) },
      { name: "an unexpected field", status: 400, error: /the status is not valid/, request: () => status(inB, { code: "03", note: "x" }) },
      { name: "a control character in the description", status: 400, error: /the status is not valid/, request: () => status(inB, { code: "03", description: "a\u0001b" }) },
      { name: "a recipient's code on a sent document", status: 400, error: /on a sent document you can only request it back \(13\)/, request: () => status(outB, { code: "03" }) },
      { name: "15 with no take-back request open", status: 409, error: /answers a take-back request \(13\), and none is open/, request: () => status(inB, { code: "15" }) },
      { name: "another agency's document", status: 404, error: /no document/, request: () => status(inB, { code: "03" }, A) },
      {
        name: "malformed JSON",
        status: 400,
        error: /not valid JSON/,
        request: () => api("POST", `/documents/${inB}/status`, { headers: { ...as(B, "clerk"), "content-type": "application/json" }, body: '{"code": "03"' }),
      },
      {
        name: "a body that is not JSON",
        status: 415,
        error: /send JSON/,
        request: () => api("POST", `/documents/${inB}/status`, { headers: { ...as(B, "clerk"), "content-type": "text/plain" }, body: "03" }),
      },
      { name: "a JSON list", status: 400, error: /must be a JSON object/, request: () => status(inB, ["03"]) },
    ];
    for (const c of bad) {
      it(`refuses ${c.name} with ${c.status}`, async () => {
        const before = await snapshot();
        const res = await c.request();
        expect(res.status, res.body.toString()).to.equal(c.status);
        expect(res.json.error).to.match(c.error);
        await expectNothingChanged(before, c.name);
      });
    }

    it("lists every problem of a status in details", async () => {
      const res = await status(inB, { code: "99", description: 5, extra: true });
      expect(res.json.details).to.have.length(3);
      expect(res.json.details[1]).to.match(/code "99" is not a status a clerk can set; use one of 02 \(Từ chối tiếp nhận\)/);
    });

    it("sends a take-back request (13) on a sent document to every recipient; a second one is 409", async () => {
      const res = await status(outB, { code: "13" });
      expect(res.status).to.equal(200);
      expect(res.json.statuses.map((s: { code: string; to: string }) => [s.code, s.to])).to.deep.equal([["13", A]]);
      const again = await status(outB, { code: "13" });
      expect(again.status).to.equal(409);
      expect(again.json.error).to.match(/already waiting for an answer/);
    });
  });

  // ---- verification ---------------------------------------------------------------------------

  describe("POST /verify", () => {
    let packet: Buffer;
    let docId: string;
    before(async () => {
      const res = await send(as(A, "clerk"), metadata({ To: [B] }), [{ name: "Tờ trình.pdf", bytes: pdf("tờ trình") }]);
      docId = res.json.id;
      packet = (await api("GET", `/documents/${docId}/envelope`, { headers: as(A, "clerk") })).body;
    });
    const verify = (body: BodyInit | undefined, type?: string, organ = B, query = "") =>
      api("POST", `/verify${query}`, { headers: { ...as(organ, "archivist"), ...(type ? { "content-type": type } : {}) }, body });

    it("answers the report of a valid packet (any content type it accepts, or none)", async () => {
      for (const type of ["application/xml", "text/xml; charset=utf-8", "application/octet-stream", undefined]) {
        const res = await verify(new Uint8Array(packet), type);
        expect(res.status, String(type)).to.equal(200);
        expect(res.json).to.include({ valid: true, indication: "TOTAL_PASSED", packetKind: "edoc", subIndication: null });
        expect(res.json.signer.organId).to.equal(A);
      }
      expect(await snapshot()).to.include({ "files:tmp": 0 });
    });

    it("answers 200 with the report when the packet is not valid: tampered, garbage, a broken ZIP", async () => {
      const text = packet.toString("utf8");
      const tampered = Buffer.from(text.replace(/<edXML:Subject>([^<]*)<\/edXML:Subject>/, "<edXML:Subject>Giả mạo</edXML:Subject>"), "utf8");
      expect(tampered.equals(packet)).to.equal(false);
      const t1 = await verify(new Uint8Array(tampered), "application/xml");
      expect(t1.status).to.equal(200);
      expect(t1.json.valid).to.equal(false);
      expect(t1.json.subIndication).to.equal("HASH_FAILURE");
      const garbage = await verify("this is not a packet", "application/xml");
      expect(garbage.status).to.equal(200);
      expect(garbage.json).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
      expect(garbage.json.errors.length).to.be.greaterThan(0);
      const zip = await verify(new Uint8Array(Buffer.from("PK\x03\x04 and then nothing of a zip file", "latin1")), "application/zip");
      expect(zip.status).to.equal(200);
      expect(zip.json).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
      expect(zip.json.errors[0]).to.match(/not a readable evidence bundle/).and.not.include(t.node.config.dataDir);
    });

    it("refuses a ZIP bomb before inflating it: a report saying so, nothing left in tmp/", async () => {
      const res = await verify(new Uint8Array(zipBomb(16 << 20)), "application/zip"); // built in milliseconds: a long synchronous build lets idle keep-alive sockets time out under the client
      expect(res.status).to.equal(200);
      expect(res.json).to.include({ valid: false, subIndication: "FORMAT_FAILURE" });
      expect(res.json.errors[0]).to.match(/packet\.edxml would inflate from \d+ to 16777216 bytes, more than 100 times \(a ZIP bomb\?\)/).and.not.include(t.node.config.dataDir);
      expect(await snapshot()).to.include({ "files:tmp": 0 });
    });

    it("verifies an evidence bundle from GET /documents/:id/evidence", async () => {
      const bundle = await api("GET", `/documents/${docId}/evidence`, { headers: as(A, "archivist") });
      expect(bundle.status).to.equal(200);
      expect(bundle.headers.get("content-type")).to.equal("application/zip");
      expect(bundle.headers.get("content-disposition")).to.include(`evidence-${docId}.zip`);
      const res = await verify(new Uint8Array(bundle.body), "application/zip");
      expect(res.status).to.equal(200);
      expect(res.json.valid, JSON.stringify(res.json.errors)).to.equal(true);
      expect(res.json.bundle).to.include({ packetValid: true, manifestOk: true, attachmentsMatchPacket: true, registrySource: "caller" });
      const audit = await t.node.storage.db("audit_log").where({ action: "evidence.export", document: docId });
      expect(audit.length).to.equal(1);
    });

    it("exports an evidence bundle with the signed status packets of a received document", async () => {
      const id = await receive(A, B);
      expect((await api("POST", `/documents/${id}/status`, withJson(as(B, "clerk"), { code: "03" }))).status).to.equal(200);
      const bundle = await api("GET", `/documents/${id}/evidence`, { headers: as(B, "archivist") });
      expect(bundle.status).to.equal(200);
      const res = await verify(new Uint8Array(bundle.body), "application/zip");
      expect(res.json.valid, JSON.stringify(res.json.errors)).to.equal(true);
      expect(res.json.bundle.statuses.map((s: { code: string; ok: boolean }) => [s.code, s.ok])).to.deep.equal([
        ["01", true],
        ["03", true],
      ]);
    });

    const bad: Array<{ name: string; status: number; error: RegExp; request: () => Promise<Reply> }> = [
      { name: "an empty body", status: 400, error: /the body is empty/, request: () => verify(new Uint8Array(0), "application/xml") },
      { name: "JSON", status: 415, error: /wrong content type "application\/json"/, request: () => verify('{"packet": "…"}', "application/json") },
      { name: "a multipart form", status: 415, error: /wrong content type "multipart\/form-data"/, request: () => verify(form(undefined, [{ name: "a.edxml", bytes: Buffer.from("x") }])) },
      { name: "a body over the limit", status: 413, error: /larger than this node verifies \(at most 524288 bytes\)/, request: () => verify(new Uint8Array(MAX_PACKET + 1), "application/xml") },
      { name: "a bad time", status: 400, error: /"at" must be an ISO 8601 time/, request: () => verify("x", "application/xml", B, "?at=yesterday") },
    ];
    for (const c of bad) {
      it(`refuses ${c.name} with ${c.status}`, async () => {
        const before = await snapshot();
        const res = await c.request();
        expect(res.status, res.body.toString()).to.equal(c.status);
        expect(res.json.error).to.match(c.error);
        await expectNothingChanged(before, c.name);
      });
    }

    it("checks certificates at the time given with ?at=", async () => {
      const res = await verify(new Uint8Array(packet), "application/xml", B, "?at=2000-01-01T00:00:00%2B07:00");
      expect(res.status).to.equal(200);
      expect(res.json.validationTime).to.equal("1999-12-31T17:00:00.000Z");
      expect(res.json).to.include({ valid: false, subIndication: "NOT_YET_VALID" });
    });
  });

  // ---- registry -------------------------------------------------------------------------------

  describe("/agencies", () => {
    const admin = () => as(A, "admin");
    const stranger = () => testIdentity(STRANGER, "Sở Tư pháp tỉnh Nghệ An");
    let strangerPacket: Buffer;
    before(async () => {
      const base = sampleEdoc();
      const edoc = { ...base, header: { ...base.header, From: { OrganId: STRANGER, OrganName: "Sở Tư pháp" }, DocumentId: `${STRANGER},2026/11/20,123/QĐ-VPCP` } };
      strangerPacket = await pack(edoc, [], stranger());
    });
    const verifyStranger = async () => (await api("POST", "/verify", { headers: { ...as(B, "clerk"), "content-type": "application/xml" }, body: new Uint8Array(strangerPacket) })).json;

    it("adds, reads, changes and deletes an agency; the verifier sees each change at once; each change is audited", async () => {
      expect((await verifyStranger()).subIndication).to.equal("SIGNER_NOT_BOUND");
      const body = { organId: STRANGER, name: "Sở Tư pháp tỉnh Nghệ An", parentId: B, endpoint: "https://edoc.sotuphap.nghean.gov.vn/", certificates: [stranger().certificate.toString()] };
      const created = await api("POST", "/agencies", withJson(admin(), body));
      expect(created.status, JSON.stringify(created.json)).to.equal(201);
      expect(created.headers.get("location")).to.equal(`/api/v1/agencies/${STRANGER}`);
      expect(created.json).to.include({ organId: STRANGER, name: body.name, parentId: B, endpoint: "https://edoc.sotuphap.nghean.gov.vn", status: "active", source: "local", local: false });
      expect(created.json.certificateFingerprints).to.deep.equal([createHash("sha256").update(stranger().certificate.raw).digest("hex")]);
      expect((await verifyStranger()).indication).to.equal("TOTAL_PASSED");

      const read = await api("GET", `/agencies/${STRANGER}`, { headers: as(B, "clerk") });
      expect(read.json).to.deep.equal(created.json);
      const dup = await api("POST", "/agencies", withJson(admin(), body));
      expect(dup.status).to.equal(409);
      expect(dup.json.error).to.match(/already in the registry/);

      // the GET answer can be sent back as it is
      const inactive = await api("PUT", `/agencies/${STRANGER}`, withJson(admin(), { ...read.json, status: "inactive" }));
      expect(inactive.status, JSON.stringify(inactive.json)).to.equal(200);
      expect(inactive.json.status).to.equal("inactive");
      expect((await verifyStranger()).subIndication).to.equal("SIGNER_NOT_BOUND");
      const toInactive = await send(as(A, "clerk"), metadata({ To: [STRANGER] }));
      expect(toInactive.status).to.equal(400);
      expect(toInactive.json.details.join(" ")).to.match(/inactive/);

      const gone = await api("DELETE", `/agencies/${STRANGER}`, { headers: admin() });
      expect(gone.status).to.equal(204);
      expect((await api("GET", `/agencies/${STRANGER}`, { headers: admin() })).status).to.equal(404);
      expect((await api("DELETE", `/agencies/${STRANGER}`, { headers: admin() })).status).to.equal(404);

      const replaced = await api("PUT", `/agencies/${STRANGER}`, withJson(admin(), { name: "Sở Tư pháp", endpoint: "http://10.0.0.7:8080", certificateFingerprints: [createHash("sha256").update(stranger().certificate.raw).digest("hex").toUpperCase().match(/../g)!.join(":")] }));
      expect(replaced.status).to.equal(201);
      expect((await verifyStranger()).indication).to.equal("TOTAL_PASSED");

      const log = await t.node.storage.db("audit_log").where("action", "like", "registry.%").orderBy("id");
      const mine = log.filter((e) => JSON.parse(e.detail).organId === STRANGER);
      expect(mine.map((e) => e.action)).to.deep.equal(["registry.create", "registry.update", "registry.delete", "registry.create"]);
      expect(mine.every((e) => e.actor.startsWith("token:") && e.organ_id === A)).to.equal(true);
    });

    it("keeps agency names without bidi controls (issue 8)", async () => {
      const res = await api("PUT", "/agencies/000.00.00.Q05", withJson(admin(), { name: "Sở\u202E Nội vụ\u2069", endpoint: "https://x.gov.vn" }));
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.json.name).to.equal("Sở Nội vụ");
      expect((await api("DELETE", "/agencies/000.00.00.Q05", { headers: admin() })).status).to.equal(204);
    });

    it("protects the entries of the node's own agencies", async () => {
      const before = await snapshot();
      const otherAdmin = await api("PUT", `/agencies/${A}`, withJson(as(B, "admin"), { name: "X", endpoint: t.url, certificates: [testPki().sender.certificate.toString()] }));
      expect(otherAdmin.status).to.equal(403);
      expect(otherAdmin.json.error).to.match(/only its own administrators/);
      const unbind = await api("PUT", `/agencies/${A}`, withJson(admin(), { name: "Văn phòng Chính phủ", endpoint: t.url, certificates: [stranger().certificate.toString()] }));
      expect(unbind.status).to.equal(409);
      expect(unbind.json.error).to.match(/current signing certificate/);
      const del = await api("DELETE", `/agencies/${A}`, { headers: admin() });
      expect(del.status).to.equal(409);
      await expectNothingChanged(before, "changes to a local agency's entry");
      const local = await api("GET", `/agencies/${A}`, { headers: admin() });
      expect(local.json.local).to.equal(true);
    });

    it("lets only node administrators change what every local agency shares (issue 8: B's admin re-pointed a remote agency)", async () => {
      // the attack: B's admin points A's correspondent at a listener of theirs, so that A's next
      // confidential document to it goes there
      let heard = 0;
      const listener = createServer((_req, res) => {
        heard++;
        res.end();
      });
      await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
      const trap = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
      try {
        const before = await snapshot();
        const entry = (await api("GET", `/agencies/${REMOTE}`, { headers: as(B, "admin") })).json;
        const repoint = await api("PUT", `/agencies/${REMOTE}`, withJson(as(B, "admin"), { ...entry, endpoint: trap }));
        expect(repoint.status, JSON.stringify(repoint.json)).to.equal(403);
        expect(repoint.json.error).to.match(/only the node administrators/).and.match(new RegExp(A.replace(/\./g, "\\.")));
        const takeOver = await api("POST", "/agencies", withJson(as(B, "admin"), { organId: "000.00.00.P77", name: "Sở giả mạo", endpoint: trap }));
        expect(takeOver.status).to.equal(403);
        const remove = await api("DELETE", `/agencies/${REMOTE}`, { headers: as(B, "admin") });
        expect(remove.status).to.equal(403);
        await expectNothingChanged(before, "registry changes by the admin of a second local agency");
        expect((await api("GET", `/agencies/${REMOTE}`, { headers: as(A, "clerk") })).json.endpoint).to.equal(entry.endpoint);
        expect(heard).to.equal(0);

        // trust anchors and CRLs are shared as well: the same rule
        const trustRows = async () => [Number((await t.node.storage.db("trust_anchors").count({ n: "*" }))[0].n), Number((await t.node.storage.db("crls").count({ n: "*" }))[0].n)];
        const trustBefore = await trustRows();
        const adminB = tokenCaller({ id: 0, organId: B, role: "admin", name: "admin B" });
        const adminA = tokenCaller({ id: 0, organId: A, role: "admin", name: "admin A" });
        const rogue = issueCertificate({ subject: { CN: "Rogue CA" }, ca: true });
        const crl = parseCrl(crlToPem(await createCrl(testPki().intermediate, [{ serial: "0badc0de", date: new Date(Date.now() - 60_000) }])));
        for (const change of [() => addTrustAnchors(t.node, adminB, [rogue.certificate]), () => addCrl(t.node, adminB, crl)]) {
          const err = await change().then(() => null, (e: Error & { kind?: string }) => e);
          expect(err?.kind, String(err)).to.equal("forbidden");
          expect(err!.message).to.match(/only the node administrators/);
        }
        await expectNothingChanged(before, "trust changes by the admin of a second local agency");
        expect(await trustRows()).to.deep.equal(trustBefore);
        const added = (await t.node.storage.db("audit_log").count({ n: "*" }))[0].n;
        await addCrl(t.node, adminA, crl);
        const last = await t.node.storage.db("audit_log").orderBy("id", "desc").first();
        expect([Number((await t.node.storage.db("audit_log").count({ n: "*" }))[0].n), last.action, last.actor]).to.deep.equal([Number(added) + 1, "crl.add", "token:0"]);
        // B's admin still manages B's own entry, but not where the node is reached: A's documents
        // to B would go there, and B's admin reads no documents
        const ownEntry = { name: "UBND tỉnh Nghệ An", endpoint: t.url, certificates: [testPki().recipient.certificate.toString()] };
        const moved = await api("PUT", `/agencies/${B}`, withJson(as(B, "admin"), { ...ownEntry, endpoint: trap }));
        expect(moved.status, JSON.stringify(moved.json)).to.equal(403);
        expect(moved.json.error).to.match(/only the node administrators .* change the endpoint of 000\.00\.00\.H41/);
        const own = await api("PUT", `/agencies/${B}`, withJson(as(B, "admin"), ownEntry));
        expect(own.status, JSON.stringify(own.json)).to.equal(200);
        expect(own.json.endpoint).to.equal(t.url);
      } finally {
        listener.close();
      }
    });

    const invalid: Array<{ name: string; status: number; details?: RegExp[]; error?: RegExp; request: () => Promise<Reply> }> = [
      {
        name: "every field wrong",
        status: 400,
        details: [
          /organId "000 00 00 G22!" is not an organ id/,
          /name is required/,
          /parentId "\.\.\/x" is not an organ id/,
          /endpoint must be an http or https URL, not ftp:/,
          /certificates\[1\] is not a PEM certificate/,
          /certificates\[2\] cannot be read/,
          /certificateFingerprints\[1\] "abc" is not a SHA-256 fingerprint/,
          /status: "active" or "inactive"/,
          /unexpected field "colour"/,
        ],
        request: () =>
          api(
            "POST",
            "/agencies",
            withJson(admin(), {
              organId: "000 00 00 G22!",
              name: " ",
              parentId: "../x",
              endpoint: "ftp://edoc.example.gov.vn",
              certificates: ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"],
              certificateFingerprints: ["abc"],
              status: "sleeping",
              colour: "red",
            }),
          ),
      },
      { name: "no organ id", status: 400, details: [/organId is required/], request: () => api("POST", "/agencies", withJson(admin(), { name: "X", endpoint: "https://x.gov.vn" })) },
      { name: "an endpoint that is no URL", status: 400, details: [/endpoint "edoc dot gov" is not a URL/], request: () => api("POST", "/agencies", withJson(admin(), { organId: "000.00.00.Q01", name: "X", endpoint: "edoc dot gov" })) },
      { name: "an endpoint with a password", status: 400, details: [/must not carry a user name or password/], request: () => api("POST", "/agencies", withJson(admin(), { organId: "000.00.00.Q01", name: "X", endpoint: "https://u:p@x.gov.vn" })) },
      { name: "certificates that are not a list", status: 400, details: [/certificates must be a list/], request: () => api("POST", "/agencies", withJson(admin(), { organId: "000.00.00.Q01", name: "X", endpoint: "https://x.gov.vn", certificates: "PEM" })) },
      { name: "its own parent", status: 400, details: [/its own parent/], request: () => api("POST", "/agencies", withJson(admin(), { organId: "000.00.00.Q01", name: "X", endpoint: "https://x.gov.vn", parentId: "000.00.00.Q01" })) },
      { name: "another organ id in the body than in the path", status: 400, details: [/differs from 000\.00\.00\.K09 in the path/], request: () => api("PUT", `/agencies/${REMOTE}`, withJson(admin(), { organId: "000.00.00.Q01", name: "X", endpoint: "https://x.gov.vn" })) },
      { name: "a bad organ id in the path", status: 400, details: [/in the path is not an organ id/], request: () => api("PUT", "/agencies/a%20b", withJson(admin(), { name: "X", endpoint: "https://x.gov.vn" })) },
      { name: "a body that is not JSON", status: 415, error: /send JSON/, request: () => api("POST", "/agencies", { headers: { ...admin(), "content-type": "text/plain" }, body: "organId=1" }) },
      { name: "malformed JSON", status: 400, error: /not valid JSON/, request: () => api("POST", "/agencies", { headers: { ...admin(), "content-type": "application/json" }, body: "{organId:" }) },
      { name: "an unknown agency", status: 404, error: /no agency "000\.00\.00\.Q99"/, request: () => api("GET", "/agencies/000.00.00.Q99", { headers: admin() }) },
      {
        name: "a body nested 100,000 deep",
        status: 400,
        details: [/more than 32 levels deep/],
        request: () =>
          api("POST", "/agencies", { headers: { ...admin(), "content-type": "application/json" }, body: `{"organId":"000.00.00.Q01","name":"X","endpoint":"https://x.gov.vn","extra":${"[".repeat(100_000)}${"]".repeat(100_000)}}` }),
      },
      { name: "a name of bidi controls only", status: 400, details: [/name is required/], request: () => api("POST", "/agencies", withJson(admin(), { organId: "000.00.00.Q01", name: " \u202E\u2066 ", endpoint: "https://x.gov.vn" })) },
    ];
    for (const c of invalid) {
      it(`refuses ${c.name} with ${c.status}, changing nothing`, async () => {
        const before = await snapshot();
        const res = await c.request();
        expect(res.status, res.body.toString()).to.equal(c.status);
        if (c.error) expect(res.json.error).to.match(c.error);
        for (const d of c.details ?? []) {
          expect(res.json.details.some((x: string) => d.test(x)), `${d} in ${JSON.stringify(res.json.details)}`).to.equal(true);
        }
        await expectNothingChanged(before, c.name);
      });
    }
  });

  // ---- the description ------------------------------------------------------------------------

  describe("malformed requests are refused, never answered 500", () => {
    it("an undecodable path, an unsupported charset or encoding, broken gzip: 4xx with a sentence", async () => {
      const json = { ...as(A, "admin"), "content-type": "application/json" };
      const cases: Array<[string, string, Record<string, string>, BodyInit | undefined, number]> = [
        ["GET", "/documents/%ff", as(A, "clerk"), undefined, 400],
        ["GET", "/agencies/%ff", as(A, "clerk"), undefined, 400],
        ["POST", "/tokens", { ...json, "content-type": "application/json; charset=latin1" }, '{"organId":"000.00.00.G22","role":"clerk"}', 415],
        ["POST", "/tokens", { ...json, "content-encoding": "br" }, '{"organId":"000.00.00.G22","role":"clerk"}', 400],
        ["POST", "/tokens", { ...json, "content-encoding": "gzip" }, "not gzip at all", 400],
      ];
      for (const [method, path, headers, body, status] of cases) {
        const res = await api(method, path, { headers, body });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}: ${res.body.toString()}`).to.equal(status);
        expect(res.json.error).to.be.a("string").and.not.match(/internal error/);
      }
      // the node door: a charset other than UTF-8 would make other readers show other text
      const latin1 = await call("POST", "/edxml", { headers: { "content-type": "application/xml; charset=latin1" }, body: "<edXML/>" });
      expect(latin1.status).to.equal(415);
      expect(latin1.json.error).to.match(/an edXML packet is UTF-8/);
    });
  });

  describe("every documented route agrees with its schema", () => {
    // For each route that takes a JSON body or query parameters: the schema's own example is
    // accepted by the schema and by the node (no 400), and the route's refused example is refused
    // by both (400). Path parameters point at a document or agency the caller may act on.
    const routes = API_ROUTES.filter((r) => r.json || r.query);
    let docA: string; // sent by A
    let packetA: Buffer;
    before(async () => {
      const a = await send(as(A, "clerk"), metadata());
      expect(a.status, JSON.stringify(a.json)).to.equal(201);
      docA = a.json.id;
      packetA = (await api("GET", `/documents/${docA}/envelope`, { headers: as(A, "clerk") })).body;
    });
    it("covers the routes that take input", () => {
      expect(routes.map((r) => `${r.method.toUpperCase()} ${r.path}`)).to.include.members(["GET /documents", "POST /documents/:id/status", "POST /agencies", "PUT /agencies/:organId", "POST /tokens", "GET /audit", "POST /verify"]);
    });
    for (const route of routes) {
      it(`${route.method.toUpperCase()} ${route.path}`, async () => {
        const schema = (route.json ?? route.query)!;
        const examples = (schema.meta()?.examples as unknown[] | undefined) ?? [{}];
        const accepted = examples[0];
        expect(schema.safeParse(accepted).success, `the schema accepts its example ${JSON.stringify(accepted)}`).to.equal(true);
        expect(route.refused, "the route names an example its schema refuses").to.not.equal(undefined);
        expect(schema.safeParse(route.refused).success, `the schema refuses ${JSON.stringify(route.refused)}`).to.equal(false);
        const role = route.roles?.[0] ?? "clerk";
        const auth = as(A, role);
        const path = async () =>
          route.path
            .replace(":id", route.path.endsWith("/status") ? await receive(B, A) : docA)
            .replace(":organId", String((accepted as { organId?: string }).organId ?? "000.00.00.T01"));
        const request = async (value: unknown) => {
          const target = await path();
          if (route.json) return api(route.method.toUpperCase(), target, withJson(auth, value));
          const query = new URLSearchParams(value as Record<string, string>).toString();
          const body = route.path === "/verify" ? { headers: { ...auth, "content-type": "application/xml" }, body: new Uint8Array(packetA) } : { headers: auth };
          return api(route.method.toUpperCase(), `${target}?${query}`, body);
        };
        const ok = await request(accepted);
        expect(ok.status, `${JSON.stringify(accepted)} → ${ok.body.toString().slice(0, 300)}`).to.not.equal(400);
        expect(ok.status, `${JSON.stringify(accepted)} → ${ok.body.toString().slice(0, 300)}`).to.be.below(500);
        const refused = await request(route.refused);
        expect(refused.status, `${JSON.stringify(route.refused)} → ${refused.body.toString()}`).to.equal(400);
      });
    }
  });

  describe("GET /api/docs", () => {
    it("serves an OpenAPI 3.1 description, without a token, of every API route and the other doors", async () => {
      const res = await call("GET", "/api/docs");
      expect(res.status).to.equal(200);
      const doc = res.json;
      expect(doc.openapi).to.equal("3.1.0");
      expect(doc.servers[0].url).to.equal(t.url);
      const router = apiRoutes(t.node) as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
      const missing: string[] = [];
      for (const layer of router.stack) {
        if (!layer.route) continue;
        const path = `/api/v1${layer.route.path.replace(/:(\w+)/g, "{$1}")}`;
        for (const method of Object.keys(layer.route.methods)) if (!doc.paths[path]?.[method]) missing.push(`${method} ${path}`);
      }
      expect(missing).to.deep.equal([]);
      for (const path of ["/edxml", "/registry/snapshot", "/healthz", "/readyz", "/metrics"]) expect(doc.paths, path).to.have.property(path);
      // every $ref resolves
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/(\w+)"/g) ?? [];
      for (const r of refs) expect(doc.components.schemas, r).to.have.property(r.split("/").at(-1)!.replace('"', ""));
    });
  });
});
