// Errors in Vietnamese and English (app/i18n.ts, server/errors.ts):
//   (a) every message the HTTP API can answer, found in the source (the throw helpers' arguments,
//       problems pushed, the checker's add(), zod's `error:`/`message:`, the rules answering a
//       problem, hints and word lists), has a Vietnamese translation with no English left over, so
//       a new message without its translation fails here;
//   (b) a real node answers bad requests (401, 403, 404, 400 with details, 409, 415) in Vietnamese
//       when Accept-Language ranks vi above en, in English otherwise, on SQLite and PostgreSQL.
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { parseSync } from "@swc/core";
import { preferredLanguage, translate } from "../app/index.ts";
import { RECIPIENT, SENDER } from "../fixtures/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { startNode, testIdentity, type TestNode } from "./helpers/node.ts";

// ---- the messages in the source -------------------------------------------------------------

/** Stands for every `${…}` of a template: a value that no catalog entry translates. */
const SAMPLE = "X1";

// Every file whose messages reach an HTTP answer. Not here: the catalog itself; app/config.ts and
// server/main.ts (the operator's console at start-up); app/delivery.ts (a delivery's lastError is
// part of the record, not an error answer).
const NOT_ANSWERS = new Set(["app/i18n.ts", "app/config.ts", "app/delivery.ts", "server/main.ts"]);
const SOURCES = [
  ...["app", "server"].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => `${dir}/${f}`)).filter((f) => !NOT_ANSWERS.has(f)),
  "envelopes/validate.ts",
  "envelopes/input.ts",
  "envelopes/agency.ts",
  "envelopes/flow.ts",
];

/** Calls whose arguments are messages: name → which arguments (all when absent). */
const CALLS: Record<string, number[] | undefined> = {
  invalid: undefined,
  notFound: undefined,
  conflict: undefined,
  forbidden: undefined,
  badRequest: undefined,
  unauthorized: [1],
  refused: [0],
  AppError: [1],
  ValidationError: undefined,
  add: undefined,
  push: undefined,
  parseInput: [2],
  assertRole: [2],
  requireRole: [1],
  oneOf: [3],
  fields: [1],
  rule: undefined,
  param: [1],
};
const KEYS = new Set(["error", "message", "refusal"]);

type Node = any;

/** The texts an expression can be, `${…}` as SAMPLE; none for what is not text. */
function texts(e: Node): string[] {
  if (!e) return [];
  switch (e.type) {
    case "StringLiteral":
      return [e.value];
    case "TemplateLiteral":
      return [e.quasis.map((q: Node) => q.cooked).join(SAMPLE)];
    case "BinaryExpression":
      if (e.operator === "??" || e.operator === "||") return [...texts(e.left), ...texts(e.right)];
      if (e.operator === "+") {
        const l = texts(e.left).length ? texts(e.left) : [SAMPLE];
        const r = texts(e.right).length ? texts(e.right) : [SAMPLE];
        return l.flatMap((a) => r.map((b) => a + b));
      }
      return [];
    case "ConditionalExpression":
      return [...texts(e.consequent), ...texts(e.alternate)];
    case "ParenthesisExpression":
    case "TsNonNullExpression":
    case "TsAsExpression":
      return texts(e.expression);
    case "ArrayExpression":
      return e.elements.flatMap((el: Node) => texts(el?.expression));
    case "ArrowFunctionExpression":
      return e.body.type === "BlockStatement" ? returned(e.body) : texts(e.body);
    case "ObjectExpression":
      return e.properties.flatMap((p: Node) => (p.type === "KeyValueProperty" && KEYS.has(p.key.value) ? texts(p.value) : []));
    default:
      return [];
  }
}

function returned(body: Node): string[] {
  const out: string[] = [];
  walk(body, (n) => {
    if (n.type === "ReturnStatement") out.push(...texts(n.argument));
  });
  return out;
}

function walk(n: Node, visit: (n: Node) => void): void {
  if (!n || typeof n !== "object") return;
  if (typeof n.type === "string") visit(n);
  for (const v of Object.values(n)) {
    if (Array.isArray(v)) v.forEach((x) => walk(x, visit));
    else if (v && typeof v === "object") walk(v, visit);
  }
}

const calleeName = (c: Node) => (c.type === "Identifier" ? c.value : c.type === "MemberExpression" ? c.property.value : undefined);

/** Every message template of the sources, `${…}` as SAMPLE, each with its file. */
function messageTemplates(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of SOURCES) {
    const src = readFileSync(file);
    const ast = parseSync(src.toString("utf8"), { syntax: "typescript" });
    // a message is a sentence: letters and at least one space ("clerk", "; " and the like are not)
    const keep = (list: string[]) => {
      for (const t of list) if (/[a-z]{2}/i.test(t) && t.includes(" ") && !found.has(t)) found.set(t, file);
    };
    walk(ast, (n) => {
      if (n.type === "CallExpression" || n.type === "NewExpression") {
        const name = calleeName(n.callee);
        if (name && Object.hasOwn(CALLS, name)) {
          const which = CALLS[name];
          (n.arguments ?? []).forEach((a: Node, i: number) => {
            if (!which || which.includes(i)) keep(texts(a.expression));
          });
        }
      } else if (n.type === "KeyValueProperty" && KEYS.has(n.key.value)) keep(texts(n.value));
      else if (n.type === "AssignmentExpression" && n.left?.value === "message") keep(texts(n.right));
      else if (n.type === "VariableDeclarator" && /_(HINT|WORDS)$|^message$/.test(n.id.value)) keep(texts(n.init));
      else if (n.type === "FunctionDeclaration" && /Problem$|^show$|^validate/.test(n.identifier.value)) keep(returned(n.body).filter((t) => t !== SAMPLE));
    });
  }
  return found;
}

/** English words that a Vietnamese sentence does not use (field names and commands aside). */
const ENGLISH = new Set(
  ("the is are was be been must not of and with this that your you has have which cannot can may only for from its or than more give send " +
    "none already should would will there any every each when after but got into does need needs it by to a as on no one").split(" "),
);
/** What is left English in a Vietnamese text, quoted values and samples aside. */
function englishLeft(vi: string): string[] {
  const words = vi.replace(/"[^"]*"|<[^>]*>/g, " ").split(/[^\p{L}]+/u).filter(Boolean);
  return words.filter((w) => ENGLISH.has(w));
}

describe("messages in Vietnamese and English", () => {
  const templates = messageTemplates();

  it("finds the messages of the source", () => {
    // a sanity check of the extraction itself: every kind of site gives some
    const all = [...templates.keys()];
    expect(templates.size).to.be.greaterThan(180);
    for (const known of [
      "no document X1 for your agency X1", // notFound
      "X1 is required but missing.", // the checker's add()
      "code is required: one of X1", // zod error:
      'unexpected field "X1"; X1', // addIssue message:
      "X1: an agency cannot be its own parent", // a rule's return
      "the document is already done (06)", // statusProblem
      "read the audit log", // assertRole's `what`
      "0 (new), 1 (revoke), 2 (update) or 3 (replace)", // a word list
      "internal error; the incident was logged", // server/errors.ts
    ]) {
      expect(all).to.include(known);
    }
  });

  it("translates every one of them: Vietnamese, NFC, with no English sentence left over", () => {
    const untranslated: string[] = [];
    for (const [en, file] of templates) {
      const vi = translate(en, "vi");
      const left = englishLeft(vi.replaceAll(SAMPLE, " "));
      if (vi === en || left.length || vi.normalize("NFC") !== vi || !/[^\x00-\x7f]/.test(vi)) untranslated.push(`${file}: ${JSON.stringify(en)} → ${JSON.stringify(vi)} ${left.join(" ")}`);
      expect(translate(en, "en")).to.equal(en);
    }
    if (untranslated.length) console.log(untranslated.join("\n"));
    expect(untranslated, `${untranslated.length} messages need a catalog entry (app/i18n.ts)`).to.deep.equal([]);
  });

  it("keeps values as they are and translates the messages inside messages", () => {
    expect(translate('no document "Quyết định 45" for your agency 000.00.00.G22', "vi")).to.equal('không có văn bản "Quyết định 45" của cơ quan 000.00.00.G22');
    expect(translate("your role, clerk (văn thư), may not manage API tokens; this needs administrator (quản trị)", "vi")).to.equal(
      "vai trò văn thư (clerk) của bạn không được phép quản lý mã truy cập API; việc này cần vai trò quản trị (admin)",
    );
    expect(translate("To[2]/OrganId must be text, got the number 7.", "vi")).to.equal("To[2]/OrganId phải là chuỗi ký tự, nhưng nhận được số 7.");
    expect(translate("OtherInfo/Priority is 9; it must be 0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) or 4 (Hỏa tốc hẹn giờ).", "vi")).to.equal(
      "OtherInfo/Priority bằng 9; giá trị phải là 0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) hoặc 4 (Hỏa tốc hẹn giờ).",
    );
    expect(translate('pageSize: a whole number from 1 to 200, not "0"', "vi")).to.equal('pageSize: phải là số nguyên từ 1 đến 200, không phải "0"');
    // problems joined into one sentence, part by part; a text with an unknown part stays English whole
    expect(translate('unexpected field "x"; the only parameter is at; "at" must be an ISO 8601 time with its offset, for example 2026-11-22T10:00:00+07:00', "vi")).to.equal(
      'không chấp nhận trường "x"; chỉ có một tham số là at; "at" phải là thời điểm theo ISO 8601 có ghi múi giờ, ví dụ 2026-11-22T10:00:00+07:00',
    );
    expect(translate("the document is not valid; something new", "vi")).to.equal("the document is not valid; something new");
    expect(translate("a message nobody translated yet", "vi")).to.equal("a message nobody translated yet");
  });

  it("prefers Vietnamese only when Accept-Language ranks vi above en", () => {
    const cases: Array<[string | undefined, "vi" | "en"]> = [
      [undefined, "en"],
      ["", "en"],
      ["*", "en"],
      ["vi", "vi"],
      ["vi-VN", "vi"],
      ["VI-vn;q=0.8", "vi"],
      ["vi-VN,vi;q=0.9,en;q=0.8", "vi"],
      ["en-US,en;q=0.9,vi;q=0.8", "en"],
      ["en;q=0.5, vi;q=0.5", "en"], // equal weights: the order given
      ["vi;q=0.5, en;q=0.5", "vi"],
      ["fr, vi;q=0.1", "vi"],
      ["fr, de", "en"],
      ["vi;q=0", "en"],
      ["*, vi;q=0", "en"], // named unacceptable, whatever the wildcard says
      ["vi;q=banana", "en"], // a malformed weight: ignored
      ["*;q=0.5, en;q=0.4", "vi"], // vi through the wildcard
    ];
    for (const [header, lang] of cases) expect(preferredLanguage(header), JSON.stringify(header)).to.equal(lang);
  });
});

// ---- a real node ----------------------------------------------------------------------------

const A = SENDER;
const REMOTE = "000.00.00.K09";
const ENGLISH_HEADERS = [undefined, "*", "en-US,en;q=0.9,vi;q=0.8"];
const VIETNAMESE_HEADERS = ["vi", "vi-VN,vi;q=0.9,en;q=0.8"];

onEachDatabase("error answers in the client's language", (database) => {
  let t: TestNode;
  before(async function () {
    this.timeout(60_000);
    t = await startNode({
      database: database(),
      organs: [
        { organId: A, name: "Văn phòng Chính phủ" },
        { organId: RECIPIENT, name: "UBND tỉnh Nghệ An" },
      ],
      registry: [{ organId: REMOTE, name: "Bộ Tư pháp", endpoint: "http://127.0.0.1:9", certificates: [testIdentity(REMOTE, "Bộ Tư pháp").certificate] }],
    });
  });
  after(async () => t?.close());

  /** The same request with each Accept-Language: status, Content-Language and JSON body. */
  async function ask(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    const answers = new Map<string | undefined, { status: number; language: string | null; vary: string | null; json: { error: string; details?: unknown } }>();
    for (const language of [...ENGLISH_HEADERS, ...VIETNAMESE_HEADERS]) {
      const res = await fetch(`${t.url}${path}`, { method, headers: { ...headers, ...(language === undefined ? {} : { "accept-language": language }) }, body });
      answers.set(language, { status: res.status, language: res.headers.get("content-language"), vary: res.headers.get("vary"), json: (await res.json()) as never });
    }
    const en = answers.get(undefined)!;
    for (const h of ENGLISH_HEADERS) {
      expect(answers.get(h), `Accept-Language: ${h}`).to.deep.equal(en);
      expect(en.language).to.equal("en");
    }
    const vi = answers.get("vi")!;
    for (const h of VIETNAMESE_HEADERS) expect(answers.get(h), `Accept-Language: ${h}`).to.deep.equal(vi);
    expect(vi.status).to.equal(en.status);
    expect(vi.language).to.equal("vi");
    expect(vi.vary).to.match(/accept-language/i);
    expect(vi.json.error).to.not.equal(en.json.error);
    expect(vi.json.error).to.equal(translate(en.json.error, "vi"));
    if (en.json.details !== undefined) {
      const [enDetails, viDetails] = [en.json.details as string[], vi.json.details as string[]];
      expect(viDetails).to.have.length(enDetails.length);
      viDetails.forEach((d, i) => expect(d).to.not.equal(enDetails[i]));
    }
    return { en: en.json, vi: vi.json, status: en.status };
  }
  const auth = (role: "clerk" | "archivist" | "admin") => t.auth(A, role);

  it("401", async () => {
    const r = await ask("GET", "/api/v1/documents");
    expect(r.status).to.equal(401);
    expect(r.en.error).to.equal("authentication required: send the header Authorization: Bearer <your API token>");
    expect(r.vi.error).to.equal("cần xác thực: hãy gửi tiêu đề Authorization: Bearer <mã truy cập API của bạn>");
    const unknown = await ask("GET", "/api/v1/documents", { authorization: "Bearer edoc_neverIssued000000000000000000000000000000" });
    expect(unknown.vi.error).to.equal("mã truy cập API không hợp lệ (không tồn tại, đã bị thu hồi hoặc đã hết hạn); hãy đề nghị quản trị viên cấp mã mới");
  });

  it("403", async () => {
    const r = await ask("GET", "/api/v1/tokens", auth("clerk"));
    expect(r.status).to.equal(403);
    expect(r.vi.error).to.equal("vai trò văn thư (clerk) của bạn không được phép quản lý mã truy cập API; việc này cần vai trò quản trị (admin)");
    const admin = await ask("GET", "/api/v1/documents", auth("admin"));
    expect(admin.vi.error).to.equal("vai trò quản trị (admin) của bạn không được phép đọc văn bản; việc này cần vai trò văn thư (clerk) hoặc lưu trữ (archivist)");
  });

  it("404", async () => {
    const r = await ask("GET", "/api/v1/documents/nope", auth("clerk"));
    expect(r.status).to.equal(404);
    expect(r.vi.error).to.equal(`không có văn bản "nope" của cơ quan ${A}`);
    const endpoint = await ask("GET", "/nothing-here");
    expect(endpoint.status).to.equal(404);
    expect(endpoint.vi.error).to.equal("không có điểm truy cập này: GET /nothing-here");
  });

  it("400 with details, each problem translated", async () => {
    const r = await ask("GET", "/api/v1/documents?direction=sideways&bogus=1&from=2026-02-30", auth("clerk"));
    expect(r.status).to.equal(400);
    expect(r.vi.error).to.equal("tham số tìm kiếm không hợp lệ");
    expect(r.vi.details).to.include('direction: "in" (văn bản đến) hoặc "out" (văn bản đi), không phải "sideways"');
    expect(r.vi.details).to.include('from: phải là ngày dạng yyyy-mm-dd (hoặc dd/mm/yyyy, yyyy/mm/dd), không phải "2026-02-30"');
    const agency = await ask("POST", "/api/v1/agencies", { ...auth("admin"), "content-type": "application/json" }, JSON.stringify({ organId: "bad id!", name: " ", endpoint: "ftp://x" }));
    expect(agency.status).to.equal(400);
    expect(agency.vi.error).to.equal("thông tin cơ quan không hợp lệ");
    expect(agency.vi.details).to.include("endpoint phải là URL http hoặc https, không phải ftp: (địa chỉ gốc bắt đầu bằng http:// hoặc https://)");
    const json = await ask("POST", "/api/v1/agencies", { ...auth("admin"), "content-type": "application/json" }, "{");
    expect(json.status).to.equal(400);
    expect(json.vi.error).to.equal("nội dung yêu cầu không phải là JSON hợp lệ");
  });

  it("409", async () => {
    const r = await ask("POST", "/api/v1/agencies", { ...auth("admin"), "content-type": "application/json" }, JSON.stringify({ organId: REMOTE, name: "Bộ Tư pháp", endpoint: "http://127.0.0.1:9" }));
    expect(r.status).to.equal(409);
    expect(r.vi.error).to.equal(`${REMOTE} đã có trong danh bạ: hãy sửa bằng PUT /api/v1/agencies/${REMOTE}`);
  });

  it("415", async () => {
    const r = await ask("POST", "/api/v1/documents", { ...auth("clerk"), "content-type": "application/json" }, "{}");
    expect(r.status).to.equal(415);
    expect(r.vi.error).to.equal(
      'kiểu nội dung "application/json" không đúng: hãy gửi văn bản dưới dạng multipart/form-data: trường "metadata" chứa các trường của MessageHeader dạng JSON, và một hoặc nhiều tệp trong trường "files"',
    );
  });

  it("leaves the verification report's own bilingual errors as they are", async () => {
    const errors = [];
    for (const language of ["en", "vi"]) {
      const res = await fetch(`${t.url}/api/v1/verify`, { method: "POST", headers: { ...auth("clerk"), "content-type": "application/xml", "accept-language": language }, body: "<edXML/>" });
      expect(res.status).to.equal(200);
      errors.push(((await res.json()) as { errors: string[] }).errors);
    }
    expect(errors[0]).to.not.be.empty;
    expect(errors[1]).to.deep.equal(errors[0]);
  });
});
