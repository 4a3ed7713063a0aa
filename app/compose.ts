// Soạn văn bản: what the compose form offers (the registry's agencies grouped by their parent,
// the kinds of document, the next số of the year) and the form sent as a document. The form's
// fields become the MessageHeader fields of sendDocument, whose rules name each problem by its
// edXML path (the page shows each problem beside the field of that path).
import { formatDate } from "../envelopes/index.ts";
import { agencyDirectory, outgoingCodes, type DocumentRow } from "../storage/index.ts";
import { CLERKS, assertRole } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { sendDocument, type UploadedFile } from "./documents.ts";
import { ComposeInput, parseInput } from "./schemas.ts";

/**
 * The kinds of document (DocumentType/TypeName) with their DocumentType/Type: 1 for the legal
 * normative documents (văn bản quy phạm pháp luật, list A of QCVN 102:2016 SĐ1:2022), 2 for the
 * administrative ones (văn bản hành chính: those list B names, then the other kinds of Nghị định
 * 30/2020 Điều 7 a văn thư sends daily). Receivers go by TypeName (edxml.md §2.9), so TypeDetail,
 * whose numbering the sources disagree on, is not sent.
 */
export const DOCUMENT_KINDS: ReadonlyArray<{ type: 1 | 2; name: string }> = [
  ...[
    "Hiến pháp",
    "Luật",
    "Pháp lệnh",
    "Lệnh",
    "Nghị quyết",
    "Nghị quyết liên tịch",
    "Nghị định",
    "Quyết định",
    "Thông tư",
    "Thông tư liên tịch",
    "Chỉ thị",
    "Bộ luật",
  ].map((name) => ({ type: 1 as const, name })),
  ...[
    "Công văn",
    "Công điện",
    "Bản ghi nhớ",
    "Giấy mời",
    "Giấy giới thiệu",
    "Thông báo",
    "Báo cáo",
    "Tờ trình",
    "Kế hoạch",
    "Hướng dẫn",
    "Chương trình",
    "Biên bản",
    "Quy chế",
    "Quy định",
    "Giấy ủy quyền",
  ].map((name) => ({ type: 2 as const, name })),
];

export interface RecipientGroup {
  /** The parent agency (cơ quan chủ quản); null for the agencies with no parent and no children. */
  parent: { organId: string; name: string } | null;
  agencies: Array<{ organId: string; name: string }>;
}

const collator = new Intl.Collator("vi");
const byName = (a: { name: string }, b: { name: string }) => collator.compare(a.name, b.name);

/**
 * The agencies a clerk may send to (active registry entries other than the clerk's own), grouped
 * by parent: a parent heads its group (it can be a recipient too), and the agencies with neither
 * parent nor children come last in a group of their own. Groups and agencies sorted as Vietnamese.
 */
export async function recipientChoices(ctx: AppContext, caller: Caller): Promise<RecipientGroup[]> {
  assertRole(caller, CLERKS, "send documents or set their status");
  const all = (await agencyDirectory(ctx.storage.db)).filter((a) => a.active && a.organId !== caller.organId);
  const names = new Map(all.map((a) => [a.organId, a.name]));
  const groups = new Map<string, RecipientGroup>();
  const alone: RecipientGroup = { parent: null, agencies: [] };
  const parents = new Set(all.map((a) => a.parentId).filter((p): p is string => !!p));
  for (const a of all) {
    const head = a.parentId ?? (parents.has(a.organId) ? a.organId : null);
    if (!head) {
      alone.agencies.push({ organId: a.organId, name: a.name });
      continue;
    }
    let g = groups.get(head);
    if (!g) groups.set(head, (g = { parent: { organId: head, name: names.get(head) ?? head }, agencies: [] }));
    g.agencies.push({ organId: a.organId, name: a.name });
  }
  const out = [...groups.values()].sort((a, b) => byName(a.parent!, b.parent!));
  for (const g of out) g.agencies.sort((a, b) => (a.organId === g.parent!.organId ? -1 : b.organId === g.parent!.organId ? 1 : byName(a, b)));
  if (alone.agencies.length) out.push({ ...alone, agencies: alone.agencies.sort(byName) });
  return out;
}

/**
 * The số the next outgoing document of the year gets (Nghị định 30/2020: numbered from 01 each
 * year in the agency's book of outgoing documents): one more than the highest number sent this
 * year, today in Vietnam. Counted from the documents sent until the books are kept on their own.
 */
/** Organ id → name of every agency in the registry: the pages show agencies by name. */
export async function agencyNames(ctx: AppContext): Promise<Map<string, string>> {
  return new Map((await agencyDirectory(ctx.storage.db)).map((a) => [a.organId, a.name]));
}

export async function suggestOutgoingNumber(ctx: AppContext, caller: Caller): Promise<string> {
  assertRole(caller, CLERKS, "send documents or set their status");
  const year = Number(formatDate(ctx.now()).slice(0, 4));
  const numbers = (await outgoingCodes(ctx.storage.db, caller.organId, year)).map((code) => Number(/^(\d{1,9})/.exec(code)?.[1] ?? 0));
  return String(Math.max(0, ...numbers) + 1).padStart(2, "0");
}

/** The compose form sent: the document it sent (the same one when the form was sent before). */
export async function sendComposed(ctx: AppContext, caller: Caller, form: unknown, files: UploadedFile[]): Promise<DocumentRow> {
  assertRole(caller, CLERKS, "send documents or set their status");
  const f = parseInput(ComposeInput, form, "the document is not valid");
  const problems: string[] = [];
  const kind = DOCUMENT_KINDS.find((k) => k.name === f.kind);
  if (!kind) problems.push("DocumentType/TypeName: choose a kind of document from the list");
  if (!files.length) problems.push("Attachments: a document must carry at least one file");
  // an unknown kind is said once (above), not again as a missing DocumentType
  const type = kind ?? { type: 2, name: f.kind };
  const signer = Object.fromEntries(Object.entries({ Competence: f.signerCompetence, Position: f.signerPosition, FullName: f.signerName }).filter(([, v]) => v));
  const metadata = {
    To: f.to,
    Code: { CodeNumber: f.number, CodeNotation: f.notation },
    DocumentType: { Type: type.type, TypeName: type.name },
    Subject: f.subject,
    ...(f.content ? { Content: f.content } : {}),
    ...(Object.keys(signer).length ? { SignerInfo: signer } : {}),
    ...(f.dueDate ? { DueDate: f.dueDate } : {}),
    OtherInfo: { Priority: f.priority },
  };
  return sendDocument(ctx, caller, metadata, files, { sendKey: f.key, problems });
}
