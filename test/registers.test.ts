// The incoming book (sổ văn bản đến, Nghị định 30/2020): accepting a received document (03) gives
// it the next số đến of its agency for the year, in the transaction that records the 03. Checked
// through the HTTP API, many at once, on SQLite and PostgreSQL: never one number twice, never two
// numbers for one document, no gap. And migration 009 fills the DueDate column of older rows.
import { expect } from "chai";
import { RECIPIENT, SENDER, pack, sampleEdoc, testPki } from "../fixtures/index.ts";
import { formatDate, type Edoc } from "../envelopes/index.ts";
import { findDocument } from "../storage/index.ts";
import { onEachDatabase } from "./helpers/db.ts";
import { recipientDoor, type TestNode } from "./helpers/node.ts";

onEachDatabase("the incoming book's số đến", (database) => {
  let node: TestNode;
  let n = 0;
  before(async function () {
    this.timeout(60_000);
    node = await recipientDoor(database());
  });
  after(async () => {
    await node?.close();
  });

  /** A document from the fixtures' sender, received through the node's door. */
  async function receive(overrides: Partial<Edoc["header"]> = {}): Promise<string> {
    const number = String(++n);
    const date = formatDate(new Date());
    const base = sampleEdoc();
    const documentId = `${SENDER},${date},${number}/CV-VPCP`;
    const edoc: Edoc = {
      ...base,
      header: { ...base.header, DocumentId: documentId, Code: { CodeNumber: number, CodeNotation: "CV-VPCP" }, PromulgationInfo: { Place: "Hà Nội", PromulgationDate: date }, ...overrides },
    };
    const res = await fetch(`${node.url}/edxml`, { method: "POST", headers: { "content-type": "application/xml" }, body: new Uint8Array(await pack(edoc, [], testPki().sender)) });
    expect(res.ok, await res.clone().text()).to.equal(true);
    return (await findDocument(node.node.storage.db, { direction: "in", localOrgan: RECIPIENT, from: SENDER, documentId }))!.id;
  }
  const setStatus = (id: string, code: string) =>
    fetch(`${node.url}/api/v1/documents/${id}/status`, { method: "POST", headers: { ...node.auth(RECIPIENT, "clerk"), "content-type": "application/json" }, body: JSON.stringify({ code }) });

  it("gives concurrent acceptances (03) through the API numbers 1…n, each document one, each number once", async function () {
    this.timeout(60_000);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await receive());
    // every document accepted twice at once: one of the two is refused, the other numbered
    const answers = await Promise.all([...ids, ...ids].map((id) => setStatus(id, "03")));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 409), await Promise.all(answers.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.text())).then((t) => t.join("; "))).to.deep.equal([]);
    expect(statuses.filter((s) => s === 200)).to.have.length(8);
    expect(statuses.filter((s) => s === 409)).to.have.length(8);
    const book = await node.node.storage.db("incoming_register").where({ local_organ: RECIPIENT }).orderBy("number");
    expect(book.map((r) => Number(r.number))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(book.map((r) => r.document))).to.deep.equal(new Set(ids));
    const year = new Date(Date.now() + 7 * 3_600_000).getUTCFullYear();
    expect(book.every((r) => Number(r.year) === year)).to.equal(true);
    // one 03 per document was signed and queued, and its audit names the number
    const sent = await node.node.storage.db("statuses").whereIn("document", ids).andWhere({ code: "03" });
    expect(sent).to.have.length(8);

    // later statuses do not number it again; the next acceptance takes the next number
    expect((await setStatus(ids[0], "05")).status).to.equal(200);
    const next = await receive();
    expect((await setStatus(next, "03")).status).to.equal(200);
    const row = await node.node.storage.db("incoming_register").where({ document: next }).first();
    expect(Number(row.number)).to.equal(9);
    expect(await node.node.storage.db("incoming_register").where({ document: ids[0] })).to.have.length(1);
  });

  it("refusing (02) takes no number; the inbox filter finds overdue documents by their DueDate, also after an upgrade", async function () {
    this.timeout(60_000);
    const refused = await receive();
    expect((await setStatus(refused, "02")).status).to.equal(200);
    expect(await node.node.storage.db("incoming_register").where({ document: refused }).first()).to.equal(undefined);

    const late = await receive({ DueDate: "2021/03/04" });
    const overdue = async () => {
      const res = await fetch(`${node.url}/api/v1/documents?overdue=true`, { headers: node.auth(RECIPIENT, "archivist") });
      expect(res.status).to.equal(200);
      return ((await res.json()) as { items: Array<{ id: string }> }).items.map((i) => i.id);
    };
    expect(await overdue()).to.deep.equal([late]);
    const db = node.node.storage.db;
    // back to before 009, and up again: the column is filled from the stored headers
    while (await db.schema.hasColumn("documents", "due_date")) await db.migrate.down();
    await db.migrate.latest();
    expect((await db("documents").where({ id: late }).first()).due_date).to.equal("2021-03-04");
    expect(await overdue()).to.deep.equal([late]);
    // once done (06), it is overdue no more
    expect((await setStatus(late, "03")).status).to.equal(200);
    expect((await setStatus(late, "06")).status).to.equal(200);
    expect(await overdue()).to.deep.equal([]);
    const bad = await fetch(`${node.url}/api/v1/documents?overdue=yes`, { headers: { ...node.auth(RECIPIENT, "archivist"), "accept-language": "vi" } });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string; details: string[] }).details[0]).to.equal('overdue: "true" hoặc để trống, không phải "yes"');
  });
});
