// Văn bản đến / Văn bản đi (the lists, with filters and paging), a document's page (what its
// signature covers, the check, attachments, the timeline of both parties, the clerk's status
// buttons, the deliveries), the printable verification report, and the books (sổ văn bản đến / đi).
import type { DocumentRecord, Listed, SignedView, VerificationReport } from "../../app/index.ts";
import type { z } from "zod";
import { dateTime, day, type Dictionary } from "./i18n.ts";
import { deliveryStateName, statusName } from "./states.tsx";
import { Layout, type Frame } from "./layout.tsx";
import { ReportView } from "./verify.tsx";

type Report = z.infer<typeof VerificationReport>;
type Delivery = DocumentRecord["deliveries"][number];

/** The filters a list understands, as the page's query carries them. */
export const LIST_FILTERS = ["status", "sender", "recipient", "type", "from", "to", "overdue", "page"] as const;
export type ListQuery = Partial<Record<(typeof LIST_FILTERS)[number], string>>;

const INBOX_STATES = ["received", "02", "03", "04", "05", "06", "13", "15", "16"];

/** A recipient's state: the transport's until the receipt, then the last status it sent back. */
function deliveryName(t: Dictionary, d: Delivery): string {
  return /^\d\d$/.test(d.state) ? `${deliveryStateName(t, d.state)} · ${statusName(t, d.state)}` : deliveryStateName(t, d.state);
}

const senderName = (r: DocumentRecord) => (r.header as { From?: { OrganName?: string } }).From?.OrganName ?? "";

function queryString(q: ListQuery, change: ListQuery = {}): string {
  const all = { ...q, ...change };
  const p = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => !!e[1]));
  return p.size ? `?${p}` : "";
}

function Filters({ t, direction, query }: { t: Dictionary; direction: "in" | "out"; query: ListQuery }) {
  const d = t.docs;
  return (
    <form method="get" class="filters" aria-label={d.filters}>
      {direction === "in" ? (
        <>
          <div>
            <label for="f-status">{d.state}</label>
            <select id="f-status" name="status">
              <option value="">{d.any}</option>
              {INBOX_STATES.map((s) => (
                <option value={s} selected={query.status === s}>
                  {statusName(t, s)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="f-sender">{d.senderId}</label>
            <input id="f-sender" name="sender" value={query.sender ?? ""} size={18} />
          </div>
        </>
      ) : (
        <div>
          <label for="f-recipient">{d.to}</label>
          <input id="f-recipient" name="recipient" value={query.recipient ?? ""} size={18} />
        </div>
      )}
      <div>
        <label for="f-type">{d.kind}</label>
        <input id="f-type" name="type" value={query.type ?? ""} size={14} />
      </div>
      <div>
        <label for="f-from">{d.dateFrom}</label>
        <input id="f-from" name="from" type="date" value={query.from ?? ""} />
      </div>
      <div>
        <label for="f-to">{d.dateTo}</label>
        <input id="f-to" name="to" type="date" value={query.to ?? ""} />
      </div>
      <div class="check">
        <input id="f-overdue" name="overdue" type="checkbox" value="true" checked={query.overdue === "true"} />
        <label for="f-overdue">{d.overdueOnly}</label>
      </div>
      <button type="submit">{d.apply}</button>
    </form>
  );
}

export function DocumentListPage(
  props: Frame & { direction: "in" | "out"; query: ListQuery; list?: { items: Listed[]; page: number; hasMore: boolean }; message?: string },
) {
  const { t, direction, query, list } = props;
  const d = t.docs;
  const inbound = direction === "in";
  return (
    <Layout {...props} title={inbound ? d.inbox : d.outbox}>
      <p class="links">
        <a href={`/books?book=${direction}`}>{inbound ? t.books.in : t.books.out}</a>
      </p>
      <Filters t={t} direction={direction} query={query} />
      {props.message && (
        <p class="alert" role="alert">
          {props.message}
        </p>
      )}
      {list && list.items.length === 0 && <p class="note">{d.none}</p>}
      {list && list.items.length > 0 && (
        <table class="list">
          <caption>{d.list(list.items.length)}</caption>
          <thead>
            <tr>
              {inbound && <th scope="col">{d.incomingNumber}</th>}
              <th scope="col">{d.subject}</th>
              <th scope="col">{d.code}</th>
              <th scope="col">{inbound ? d.from : d.to}</th>
              <th scope="col">{d.kind}</th>
              <th scope="col">{inbound ? d.received : d.sent}</th>
              <th scope="col">{d.due}</th>
              <th scope="col">{d.state}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map(({ record: r, unread, incoming, dueDate, overdue }) => (
              <tr class={unread ? "unread" : undefined}>
                {inbound && <td>{incoming ? `${incoming.number}/${incoming.year}` : ""}</td>}
                <td>
                  {unread && <span class="badge">{d.unread}</span>} <a href={`/documents/${r.id}`}>{r.subject}</a>
                </td>
                <td>{r.code}</td>
                <td>{inbound ? `${senderName(r)} (${r.from})` : r.deliveries.map((x) => `${x.organId}: ${deliveryName(t, x)}`).join("; ")}</td>
                <td>{r.type}</td>
                <td>{dateTime(t, r.createdAt)}</td>
                <td>
                  {day(t, dueDate)}
                  {overdue && <span class="badge bad">{d.overdue}</span>}
                </td>
                <td>{inbound ? statusName(t, r.status) : r.delivery ? deliveryStateName(t, r.delivery.state) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list && (list.page > 1 || list.hasMore) && (
        <nav class="pages" aria-label={d.pageOf(list.page)}>
          {list.page > 1 && <a href={queryString(query, { page: String(list.page - 1) })}>{d.previous}</a>}
          <span>{d.pageOf(list.page)}</span>
          {list.hasMore && <a href={queryString(query, { page: String(list.page + 1) })}>{d.next}</a>}
        </nav>
      )}
    </Layout>
  );
}

/** What the signature covers, as signed. */
function SignedFacts({ t, signed, incoming }: { t: Dictionary; signed: SignedView; incoming: { number: number; year: number } | null }) {
  const d = t.docs;
  return (
    <dl class="facts">
      {incoming && (
        <>
          <dt>{d.incomingNumber}</dt>
          <dd>
            {incoming.number}/{incoming.year}
          </dd>
        </>
      )}
      <dt>{d.code}</dt>
      <dd class="code">{signed.code}</dd>
      <dt>{d.subject}</dt>
      <dd>{signed.subject}</dd>
      {signed.kind && (
        <>
          <dt>{d.kind}</dt>
          <dd>{signed.kind}</dd>
        </>
      )}
      <dt>{d.from}</dt>
      <dd>
        {signed.from.name} ({signed.from.organId})
      </dd>
      <dt>{d.to}</dt>
      <dd>
        <ul class="plain">
          {signed.to.map((x) => (
            <li>
              {x.name} ({x.organId})
            </li>
          ))}
        </ul>
      </dd>
      <dt>{d.promulgated}</dt>
      <dd>
        {signed.place ? `${signed.place}, ` : ""}
        {day(t, signed.promulgationDate)}
      </dd>
      {signed.signer && (
        <>
          <dt>{d.signer}</dt>
          <dd>{[signed.signer.position, signed.signer.fullName].filter(Boolean).join(": ")}</dd>
        </>
      )}
      {signed.dueDate && (
        <>
          <dt>{d.due}</dt>
          <dd>{day(t, signed.dueDate)}</dd>
        </>
      )}
      {signed.content && (
        <>
          <dt>{d.content}</dt>
          <dd class="content">{signed.content}</dd>
        </>
      )}
    </dl>
  );
}

/** The statuses of both parties in time order, drawn as a timeline: ours on one side, theirs on the other. */
function Timeline({ t, record }: { t: Dictionary; record: DocumentRecord }) {
  const d = t.docs;
  const inbound = record.direction === "in";
  return (
    <ol class="timeline">
      <li class={inbound ? "theirs" : "ours"}>
        <span class="when">{dateTime(t, record.createdAt)}</span>
        <span class="what">{inbound ? d.arrived : d.dispatched}</span>
        <span class="who">{inbound ? d.theirs : d.ours}</span>
      </li>
      {record.statuses.map((s) => {
        const name = statusName(t, s.code);
        const ours = s.direction === "sent";
        return (
          <li class={ours ? "ours" : "theirs"}>
            <span class="when">{dateTime(t, s.at)}</span>
            <span class="what">
              <strong>{name}</strong> ({s.code})
            </span>
            <span class="who">
              {ours ? d.ours : d.theirs}: {d.by(s.from, s.to)}
            </span>
            {s.description && s.description !== name && !s.description.startsWith(name) && <span class="why">{s.description}</span>}
          </li>
        );
      })}
    </ol>
  );
}

function StatusButtons({ t, id, csrf, codes }: { t: Dictionary; id: string; csrf: string; codes: string[] }) {
  const d = t.docs;
  if (!codes.length) return <p>{d.noActions}</p>;
  return (
    <div class="actions">
      {codes.map((code) => (
        <form method="post" action={`/documents/${id}/status`} class={code === "02" || code === "13" ? "stack" : "inline"}>
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="code" value={code} />
          {code === "02" && (
            <>
              <label for="reason-02">{d.refuseReason}</label>
              <textarea id="reason-02" name="description" rows={2} maxlength={1000}></textarea>
            </>
          )}
          {code === "13" && (
            <>
              <label for="reason-13">{d.takeBackReason}</label>
              <textarea id="reason-13" name="description" rows={2} maxlength={1000} required></textarea>
            </>
          )}
          <button type="submit">{t.statusNames[code]}</button>
        </form>
      ))}
    </div>
  );
}

/** The recipients' region, polled by htmx while a delivery is queued or on its way. */
export function DeliveriesRegion({ t, csrf, record, names, clerk }: { t: Dictionary; csrf: string; record: DocumentRecord; names: ReadonlyMap<string, string>; clerk: boolean }) {
  const moving = record.deliveries.some((d) => d.state === "queued" || d.state === "sending");
  return (
    <div id="deliveries" aria-live="polite" {...(moving ? { "hx-get": `/documents/${record.id}/deliveries`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" } : {})}>
      <Deliveries t={t} id={record.id} csrf={csrf} record={record} names={names} clerk={clerk} />
    </div>
  );
}

function Deliveries({ t, id, csrf, record, names, clerk }: { t: Dictionary; id: string; csrf: string; record: DocumentRecord; names: ReadonlyMap<string, string>; clerk: boolean }) {
  const d = t.docs;
  return (
    <table class="list" aria-labelledby="deliveries-title">
      <thead>
        <tr>
          <th scope="col">{d.recipient}</th>
          <th scope="col">{d.state}</th>
          <th scope="col">{d.attempts}</th>
          <th scope="col">{d.nextAttempt}</th>
          <th scope="col">{d.lastError}</th>
          {clerk && <th scope="col">{d.actions}</th>}
        </tr>
      </thead>
      <tbody>
        {record.deliveries.map((x) => (
          <tr>
            <td>
              {names.get(x.organId) ?? ""} ({x.organId})
            </td>
            <td class={`state ${x.state}`}>
              <strong>{deliveryStateName(t, x.state)}</strong>
              {/^\d\d$/.test(x.state) && <p class="status">{statusName(t, x.state)}</p>}
            </td>
            <td>{x.attempts}</td>
            <td>{x.nextAttemptAt ? dateTime(t, x.nextAttemptAt) : ""}</td>
            <td class="error">{x.lastError ?? ""}</td>
            {clerk && (
              <td>
                {x.state === "failed" && (
                  <form method="post" action={`/documents/${id}/resend`} class="inline">
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="organId" value={x.organId} />
                    <button type="submit">{d.resend}</button>
                  </form>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface DocumentViewProps {
  record: DocumentRecord;
  report: Report;
  signed: SignedView | null;
  actions: string[];
  incoming: { number: number; year: number } | null;
}

export function DocumentPage(props: Frame & DocumentViewProps & { message?: string }) {
  const { t, record, signed, report } = props;
  const d = t.docs;
  const clerk = props.session?.role === "clerk";
  const names = new Map((signed?.to ?? []).map((x) => [x.organId, x.name]));
  return (
    <Layout {...props} title={d.title}>
      <p class="links">
        <a href={record.direction === "in" ? "/inbox" : "/outbox"}>{d.back}</a>
      </p>
      {props.message && (
        <p class="note" role="status">
          {props.message}
        </p>
      )}
      <section aria-labelledby="signed-title">
        <h2 id="signed-title">{d.signedPart}</h2>
        {signed ? (
          <>
            <p class="hint">{d.signedNote}</p>
            <SignedFacts t={t} signed={signed} incoming={props.incoming} />
          </>
        ) : (
          <p class="alert" role="alert">
            {d.notShown}
          </p>
        )}
      </section>
      <section aria-labelledby="files-title">
        <h2 id="files-title">{d.attachments}</h2>
        {signed && signed.attachments.length ? (
          <ul>
            {signed.attachments.map((a) => {
              const size = record.attachments.find((x) => x.n === a.n)?.size;
              return (
                <li>
                  <a href={`/documents/${record.id}/attachments/${a.n}`} download={a.name}>
                    {a.name}
                  </a>
                  {size !== undefined && ` (${new Intl.NumberFormat(t.locale).format(size)} byte)`}
                </li>
              );
            })}
          </ul>
        ) : (
          <p>{d.noAttachments}</p>
        )}
      </section>
      <section aria-labelledby="check-title">
        <h2 id="check-title">{d.verification}</h2>
        <ReportView t={t} report={report} />
        <p class="links">
          <a href={`/documents/${record.id}/evidence`}>{d.evidence}</a>
          <a href={`/documents/${record.id}/report`}>{d.report}</a>
        </p>
      </section>
      {record.direction === "out" && (
        <section aria-labelledby="deliveries-title">
          <h2 id="deliveries-title">{d.deliveries}</h2>
          <DeliveriesRegion t={t} csrf={props.csrf} record={record} names={names} clerk={clerk} />
        </section>
      )}
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">{d.timeline}</h2>
        <Timeline t={t} record={record} />
      </section>
      {clerk && (
        <section aria-labelledby="actions-title">
          <h2 id="actions-title">{d.actions}</h2>
          <StatusButtons t={t} id={record.id} csrf={props.csrf} codes={props.actions} />
        </section>
      )}
    </Layout>
  );
}

/** The verification report to print and file: one page (print stylesheet), the signature on paper below. */
export function ReportPage(props: Frame & DocumentViewProps & { agency: string; packetSha256: string; printedAt: string }) {
  const { t, record, signed, report } = props;
  const r = t.report;
  return (
    <Layout {...props} title={r.title} scripts={["/assets/print.js"]}>
      <div class="paper">
        <dl class="facts">
          <dt>{r.agency}</dt>
          <dd>
            {props.agency} ({record.localOrganId})
          </dd>
          <dt>{r.document}</dt>
          <dd>{signed ? `${signed.code}: ${signed.subject}` : record.documentId}</dd>
          {signed && (
            <>
              <dt>{t.docs.from}</dt>
              <dd>
                {signed.from.name} ({signed.from.organId})
              </dd>
            </>
          )}
          <dt>{r.packet}</dt>
          <dd class="hash">{props.packetSha256}</dd>
          <dt>{r.printedAt}</dt>
          <dd>{dateTime(t, props.printedAt)}</dd>
        </dl>
        <ReportView t={t} report={report} />
        <h2>{t.docs.timeline}</h2>
        <table class="list compact">
          <thead>
            <tr>
              <th scope="col">{r.at}</th>
              <th scope="col">{t.docs.state}</th>
              <th scope="col">{r.parties}</th>
            </tr>
          </thead>
          <tbody>
            {record.statuses.map((s) => (
              <tr>
                <td>{dateTime(t, s.at)}</td>
                <td>
                  {s.code} {statusName(t, s.code)}
                </td>
                <td>{t.docs.by(s.from, s.to)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="signature">{r.checker}</p>
      </div>
      <p class="links noprint">
        <button type="button" data-print="">
          {r.print}
        </button>
        <a href={`/documents/${record.id}`}>{t.docs.title}</a>
      </p>
    </Layout>
  );
}

export interface BookEntry {
  number: number | null;
  recordedAt: string | null;
  record: DocumentRecord;
}

const bookHeader = (t: Dictionary, book: "in" | "out") =>
  book === "in"
    ? [t.docs.incomingNumber, t.books.recordedAt, t.docs.from, t.docs.code, t.docs.promulgated, t.docs.subject, t.docs.kind, t.docs.state]
    : [t.docs.code, t.docs.promulgated, t.docs.subject, t.docs.kind, t.docs.signer, t.docs.to, t.docs.state];

function bookRow(t: Dictionary, book: "in" | "out", e: BookEntry): string[] {
  const r = e.record;
  const h = r.header as { SignerInfo?: { FullName?: string; Position?: string } };
  if (book === "in") {
    return [String(e.number), dateTime(t, e.recordedAt), `${senderName(r)} (${r.from})`, r.code, day(t, r.promulgationDate), r.subject, r.type, statusName(t, r.status)];
  }
  return [
    r.code,
    day(t, r.promulgationDate),
    r.subject,
    r.type,
    [h.SignerInfo?.Position, h.SignerInfo?.FullName].filter(Boolean).join(": "),
    r.to.join(", "),
    r.delivery ? deliveryStateName(t, r.delivery.state) : "",
  ];
}

export function BooksPage(props: Frame & { book: "in" | "out"; year: number; entries: BookEntry[] }) {
  const { t, book, year } = props;
  const name = book === "in" ? t.books.in : t.books.out;
  return (
    <Layout {...props} title={name} scripts={["/assets/print.js"]}>
      <p class="links noprint">
        <a href={`/books?book=in&year=${year}`} aria-current={book === "in" ? "page" : undefined}>
          {t.books.in}
        </a>
        <a href={`/books?book=out&year=${year}`} aria-current={book === "out" ? "page" : undefined}>
          {t.books.out}
        </a>
      </p>
      <form method="get" class="filters">
        <input type="hidden" name="book" value={book} />
        <div>
          <label for="year">{t.books.year}</label>
          <input id="year" name="year" type="number" min={2000} max={2999} value={String(year)} />
        </div>
        <button type="submit">{t.books.show}</button>
      </form>
      <p class="links noprint">
        <a href={`/books.csv?book=${book}&year=${year}`} download="">
          {t.books.csv}
        </a>
        <button type="button" data-print="">
          {t.books.print}
        </button>
      </p>
      {props.entries.length === 0 ? (
        <p class="note">{t.books.empty}</p>
      ) : (
        <table class="list book">
          <caption>{t.books.caption(name, year)}</caption>
          <thead>
            <tr>
              {bookHeader(t, book).map((c) => (
                <th scope="col">{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <tr>
                {bookRow(t, book, e).map((c, i) =>
                  i === (book === "in" ? 5 : 2) ? (
                    <td>
                      <a href={`/documents/${e.record.id}`}>{c}</a>
                    </td>
                  ) : (
                    <td>{c}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

/** A cell of the CSV: quoted, and a formula's first character made text (a spreadsheet must not run what another agency wrote). */
const cell = (v: string) => `"${(/^[=+\-@\t\r]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"`;

/** The book as CSV (UTF-8 with a BOM, so that spreadsheets read Vietnamese), in the page's language. */
export function bookCsv(t: Dictionary, book: "in" | "out", entries: BookEntry[]): string {
  const lines = [bookHeader(t, book), ...entries.map((e) => bookRow(t, book, e))].map((row) => row.map(cell).join(","));
  return `\ufeff${lines.join("\r\n")}\r\n`;
}
