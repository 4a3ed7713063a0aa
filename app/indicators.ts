// Chỉ số: how an agency's exchange went over a period (days in Vietnam's time): documents sent and
// received (in all, per month, per other agency), delivery success, how long documents took to be
// accepted (03, vào sổ) and completed (06), and the on-time rate against DueDate ("tỉ lệ giải
// quyết đúng hạn") with the list of overdue documents. Counted from the documents created in the
// period. For clerks and archivists: the overdue list names documents, which admins do not read.
import { formatDate } from "../envelopes/index.ts";
import { documentsOfPeriod, listDeliveriesFor, listRecipientsFor, listStatusesFor, type PeriodDocument, type StatusRow } from "../storage/index.ts";
import { DOCUMENT_READERS, assertRole } from "./access.ts";
import type { AppContext, Caller } from "./context.ts";
import { IndicatorsQuery, parseInput } from "./schemas.ts";

export interface Indicators {
  /** The period, first and last day (yyyy-mm-dd, Vietnam's days). */
  from: string;
  to: string;
  sent: number;
  received: number;
  /** The deliveries of the documents sent: one per recipient. */
  deliveries: { total: number; delivered: number; pending: number; failed: number };
  /** Median hours from arrival (received) or sending (sent, per recipient) to 03 and to 06; null without any. */
  hoursTo03: { received: number | null; sent: number | null };
  hoursTo06: { received: number | null; sent: number | null };
  /** Received documents with a DueDate: completed (06) by the end of that day, or not (late, or overdue now). */
  onTime: { onTime: number; late: number; rate: number | null };
  /** Received documents past their DueDate, not completed, refused or given back. */
  overdue: Array<Pick<PeriodDocument, "id" | "code" | "subject" | "from" | "dueDate" | "status">>;
  months: Array<{ month: string; sent: number; received: number }>;
  agencies: Array<{ organId: string; sent: number; received: number }>;
}

const HOUR = 3_600_000;
const VN = "+07:00";
/** The period as the Vietnam days people chose: the start of the first, the end of the last. */
const dayStart = (day: string) => new Date(`${day}T00:00:00${VN}`);
const nextDay = (day: string) => new Date(dayStart(day).getTime() + 24 * HOUR);

function median(values: number[]): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return Math.round((v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2) * 10) / 10;
}

const when = (s: StatusRow) => new Date(s.timestamp ?? s.at).getTime();
const first = (statuses: StatusRow[], code: string, test: (s: StatusRow) => boolean) => {
  const found = statuses.filter((s) => s.code === code && test(s)).map(when);
  return found.length ? Math.min(...found) : null;
};

export async function agencyIndicators(ctx: AppContext, caller: Caller, query: unknown): Promise<Indicators> {
  assertRole(caller, DOCUMENT_READERS, "read documents");
  const q = parseInput(IndicatorsQuery, query, "the period is not valid");
  const today = formatDate(ctx.now()).replace(/\//g, "-");
  const from = q.from ?? `${today.slice(0, 4)}-01-01`;
  const to = q.to ?? today;
  const db = ctx.storage.db;
  const docs = await documentsOfPeriod(db, caller.organId, dayStart(from), nextDay(to));
  const ids = docs.map((d) => d.id);
  const out = docs.filter((d) => d.direction === "out");
  const inbound = docs.filter((d) => d.direction === "in");
  const [statuses, deliveries, recipients] = await Promise.all([
    listStatusesFor(db, ids),
    listDeliveriesFor(db, out.map((d) => d.id), "edoc"),
    listRecipientsFor(db, out.map((d) => d.id)),
  ]);

  const deliveryCount = { total: 0, delivered: 0, pending: 0, failed: 0 };
  for (const list of deliveries.values()) {
    for (const d of list) {
      deliveryCount.total++;
      if (d.state === "delivered") deliveryCount.delivered++;
      else if (d.state === "failed") deliveryCount.failed++;
      else deliveryCount.pending++;
    }
  }

  const hours = { "03": { received: [] as number[], sent: [] as number[] }, "06": { received: [] as number[], sent: [] as number[] } };
  const now = ctx.now().getTime();
  const onTime = { onTime: 0, late: 0 };
  const overdue: Indicators["overdue"] = [];
  for (const d of inbound) {
    const s = statuses.get(d.id) ?? [];
    const arrived = new Date(d.createdAt).getTime();
    // the statuses this agency set on it
    const ours = (x: StatusRow) => x.direction === "sent";
    const accepted = first(s, "03", ours);
    const completed = first(s, "06", ours);
    if (accepted !== null) hours["03"].received.push((accepted - arrived) / HOUR);
    if (completed !== null) hours["06"].received.push((completed - arrived) / HOUR);
    if (!d.dueDate) continue;
    const due = nextDay(d.dueDate.replace(/\//g, "-")).getTime();
    if (completed !== null) onTime[completed < due ? "onTime" : "late"]++;
    else if (now >= due && !s.some((x) => ours(x) && (x.code === "02" || x.code === "15"))) {
      onTime.late++;
      overdue.push({ id: d.id, code: d.code, subject: d.subject, from: d.from, dueDate: d.dueDate, status: d.status });
    }
  }
  for (const d of out) {
    const s = statuses.get(d.id) ?? [];
    const sentAt = new Date(d.createdAt).getTime();
    for (const organId of recipients.get(d.id) ?? []) {
      const theirs = (x: StatusRow) => x.direction === "received" && x.from === organId;
      const accepted = first(s, "03", theirs);
      const completed = first(s, "06", theirs);
      if (accepted !== null) hours["03"].sent.push((accepted - sentAt) / HOUR);
      if (completed !== null) hours["06"].sent.push((completed - sentAt) / HOUR);
    }
  }

  const months = new Map<string, { month: string; sent: number; received: number }>();
  for (let m = from.slice(0, 7); m <= to.slice(0, 7); m = nextMonth(m)) months.set(m, { month: m, sent: 0, received: 0 });
  const agencies = new Map<string, { organId: string; sent: number; received: number }>();
  const agency = (organId: string) => agencies.get(organId) ?? agencies.set(organId, { organId, sent: 0, received: 0 }).get(organId)!;
  for (const d of docs) {
    const month = formatDate(new Date(d.createdAt)).slice(0, 7).replace("/", "-");
    const key = d.direction === "out" ? "sent" : "received";
    months.get(month)![key]++;
    if (d.direction === "in") agency(d.from).received++;
    else for (const organId of recipients.get(d.id) ?? []) agency(organId).sent++;
  }

  const judged = onTime.onTime + onTime.late;
  return {
    from,
    to,
    sent: out.length,
    received: inbound.length,
    deliveries: deliveryCount,
    hoursTo03: { received: median(hours["03"].received), sent: median(hours["03"].sent) },
    hoursTo06: { received: median(hours["06"].received), sent: median(hours["06"].sent) },
    onTime: { ...onTime, rate: judged ? onTime.onTime / judged : null },
    overdue,
    months: [...months.values()],
    agencies: [...agencies.values()].sort((a, b) => b.sent + b.received - (a.sent + a.received) || a.organId.localeCompare(b.organId)),
  };
}

function nextMonth(m: string): string {
  const [y, mo] = m.split("-").map(Number);
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, "0")}`;
}
