// Tra cứu: the archive search (the search use case: diacritics-insensitive, the last word as a
// prefix) with its filters, a page of results at a time, and the results as CSV. A GET form, so
// that a search is a link one can keep and send.
import type { DocumentRecord, SearchResult } from "../../app/index.ts";
import type { z } from "zod";
import { Layout, type Frame } from "./layout.tsx";
import { day, type Dictionary } from "./i18n.ts";
import { Choice, DataTable, ProblemList } from "./parts.tsx";
import { deliveryStateName, statusName } from "./states.tsx";

type Result = z.infer<typeof SearchResult>;

const FIELDS = ["q", "direction", "from", "to", "sender", "recipient", "status", "type", "code", "page"] as const;
/** Pages the CSV reads at most (200 documents each). */
const CSV_PAGES = 50;
const STATUS_CODES = ["01", "02", "03", "04", "05", "06", "13", "15", "16"];

/** The parameters a page passes on: the known ones given once and not empty. */
export function searchParams(query: Record<string, unknown>, known: readonly string[] = FIELDS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of known) {
    const v = query[k];
    if (typeof v === "string" && v.trim()) out[k] = v;
  }
  return out;
}

const link = (path: string, params: Record<string, string>) => {
  const q = new URLSearchParams(params).toString();
  return q ? `${path}?${q}` : path;
};

/** Where a document stands: a sent one with its recipients, a received one by the status set here. */
function documentState(t: Dictionary, d: DocumentRecord): string {
  if (d.direction === "out") return deliveryStateName(t, d.delivery?.state === "retrying" ? "queued" : (d.delivery?.state ?? "queued"));
  return d.status === "received" ? t.search.statusReceived : statusName(t, d.status);
}

/** The other party: the sender of a received document, the recipients of a sent one. */
const party = (d: DocumentRecord, names: ReadonlyMap<string, string>) => (d.direction === "in" ? [d.from] : d.to).map((id) => `${names.get(id) ?? id} (${id})`).join("; ");

function Filters({ t, query }: { t: Dictionary; query: Record<string, string> }) {
  const s = t.search;
  const input = (name: keyof typeof query & string, label: string, type = "text") => (
    <div class="field">
      <label for={`f-${name}`}>{label}</label>
      <input id={`f-${name}`} name={name} type={type} value={query[name] ?? ""} />
    </div>
  );
  return (
    <form method="get" action="/search" class="search" role="search">
      <div class="field wide">
        <label for="q">{s.q}</label>
        <input id="q" name="q" type="search" value={query.q ?? ""} aria-describedby="q-hint" autofocus />
        <p class="hint" id="q-hint">
          {s.qHint}
        </p>
      </div>
      <fieldset>
        <legend>{s.filters}</legend>
        <div class="row">
          <Choice id="f-direction" name="direction" label={s.direction} value={query.direction} options={[["", s.any], ["in", s.in], ["out", s.out]]} />
          <Choice
            id="f-status"
            name="status"
            label={s.status}
            value={query.status}
            options={[["", s.any], ["received", s.statusReceived], ["sent", s.statusSent], ...STATUS_CODES.map((c): [string, string] => [c, `${c} ${statusName(t, c)}`])]}
          />
          {input("from", s.from, "date")}
          {input("to", s.to, "date")}
        </div>
        <div class="row">
          {input("code", s.code)}
          {input("type", s.type)}
          {input("sender", s.sender)}
          {input("recipient", s.recipient)}
        </div>
      </fieldset>
      <button type="submit">{s.submit}</button>
    </form>
  );
}

export function SearchPage(props: Frame & { query: Record<string, string>; result?: Result; problems: string[]; names: ReadonlyMap<string, string> }) {
  const { t, query, result } = props;
  const s = t.search;
  const { page: _page, ...filters } = query;
  const at = result?.page ?? 1;
  return (
    <Layout {...props} title={s.title}>
      <Filters t={t} query={query} />
      {props.problems.length > 0 && <ProblemList title={s.problems} problems={props.problems} />}
      {result && (
        <section aria-labelledby="results-title">
          <h2 id="results-title">{s.results}</h2>
          {result.items.length === 0 ? (
            <p role="status">{s.none}</p>
          ) : (
            <>
              <p>
                <a href={link("/search.csv", filters)} download="">
                  {s.csv}
                </a>
              </p>
              <div class="scroll">
                <DataTable
                  caption={s.page(at)}
                  columns={(["code", "subject", "kind", "direction", "party", "date", "status"] as const).map((c) => s.columns[c])}
                  rows={result.items.map((d) => [
                    d.code,
                    <a href={`/documents/${d.id}`}>{d.subject}</a>,
                    d.type,
                    s.directionName[d.direction],
                    party(d, props.names),
                    day(t, d.promulgationDate),
                    documentState(t, d),
                  ])}
                />
              </div>
            </>
          )}
          {(at > 1 || result.hasMore) && (
            <nav aria-label={s.pages} class="pages">
              {at > 1 && <a href={link("/search", { ...filters, page: String(at - 1) })}>{s.prev}</a>}
              {result.hasMore && <a href={link("/search", { ...filters, page: String(at + 1) })}>{s.next}</a>}
            </nav>
          )}
        </section>
      )}
    </Layout>
  );
}

/** The rows of the search's CSV: a header, then every document found (at most CSV_PAGES pages). */
export async function searchCsv(t: Dictionary, names: ReadonlyMap<string, string>, pageOf: (page: number) => Promise<Result>): Promise<string[][]> {
  const c = t.search.columns;
  const rows = [[c.code, c.subject, c.kind, c.direction, c.party, c.date, c.createdAt, c.status]];
  for (let page = 1; page <= CSV_PAGES; page++) {
    const r = await pageOf(page);
    for (const d of r.items) {
      rows.push([d.code, d.subject, d.type, t.search.directionName[d.direction], party(d, names), day(t, d.promulgationDate), day(t, d.createdAt), documentState(t, d)]);
    }
    if (!r.hasMore) break;
  }
  return rows;
}
