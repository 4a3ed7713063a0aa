// Chỉ số: the agency's indicators for a period, a bar chart drawn here as SVG (no script, no
// library: presentation attributes only, which the Content-Security-Policy allows), with its title
// and description for screen readers and the same numbers as a table; and the same as CSV.
import type { Indicators } from "../../app/index.ts";
import { Layout, type Frame } from "./layout.tsx";
import { count, day, type Dictionary } from "./i18n.ts";
import { DataTable, ProblemList } from "./parts.tsx";
import { statusName } from "./states.tsx";

const percent = (t: Dictionary, r: number) => new Intl.NumberFormat(t.locale, { style: "percent", maximumFractionDigits: 1 }).format(r);
const hours = (t: Dictionary, h: number | null) => (h === null ? t.indicators.noData : t.indicators.hours(count(t, h, 1)));
/** A month "2026-11" as people write it: 11/2026. */
const month = (m: string) => `${m.slice(5)}/${m.slice(0, 4)}`;

/** The summary's lines, label and value: the page and the CSV say the same. */
function summary(t: Dictionary, x: Indicators): Array<[string, string]> {
  const i = t.indicators;
  const d = x.deliveries;
  return [
    [i.sent, count(t, x.sent)],
    [i.received, count(t, x.received)],
    [i.deliveries, `${d.total ? percent(t, d.delivered / d.total) : i.noData} · ${i.deliveryDetail(count(t, d.delivered), count(t, d.total), count(t, d.failed), count(t, d.pending))}`],
    [i.onTime, `${x.onTime.rate === null ? i.noData : percent(t, x.onTime.rate)} · ${i.onTimeDetail(count(t, x.onTime.onTime), count(t, x.onTime.late))}`],
    [i.to03Received, hours(t, x.hoursTo03.received)],
    [i.to06Received, hours(t, x.hoursTo06.received)],
    [i.to03Sent, hours(t, x.hoursTo03.sent)],
    [i.to06Sent, hours(t, x.hoursTo06.sent)],
  ];
}

const COLORS = { sent: "#0b5394", received: "#b45f06" };

/** Sent and received per month, as grouped bars. */
function MonthChart({ t, x }: { t: Dictionary; x: Indicators }) {
  const i = t.indicators;
  const slot = 56;
  const [left, top, bottom, height] = [40, 30, 36, 160];
  const width = left + Math.max(x.months.length, 3) * slot + 10;
  const max = Math.max(1, ...x.months.flatMap((m) => [m.sent, m.received]));
  const y = (n: number) => top + height - (n / max) * height;
  return (
    <svg class="chart" role="img" aria-labelledby="chart-title chart-desc" viewBox={`0 0 ${width} ${top + height + bottom}`} width={width} height={top + height + bottom}>
      <title id="chart-title">{i.chartTitle}</title>
      <desc id="chart-desc">{i.chartDesc(day(t, x.from), day(t, x.to))}</desc>
      <g aria-hidden="true">
        <rect x={left} y={6} width={12} height={12} fill={COLORS.sent} />
        <text x={left + 16} y={16} font-size="12" fill="#1b1f24">
          {i.sent}
        </text>
        <rect x={left + 150} y={6} width={12} height={12} fill={COLORS.received} />
        <text x={left + 166} y={16} font-size="12" fill="#1b1f24">
          {i.received}
        </text>
        <line x1={left} y1={top + height} x2={width - 10} y2={top + height} stroke="#4a5562" />
        <text x={left - 6} y={top + 4} font-size="11" text-anchor="end" fill="#4a5562">
          {count(t, max)}
        </text>
        <text x={left - 6} y={top + height} font-size="11" text-anchor="end" fill="#4a5562">
          0
        </text>
        {x.months.map((m, k) => {
          const at = left + k * slot + 8;
          return (
            <>
              <rect x={at} y={y(m.sent)} width={18} height={top + height - y(m.sent)} fill={COLORS.sent} />
              <rect x={at + 20} y={y(m.received)} width={18} height={top + height - y(m.received)} fill={COLORS.received} />
              <text x={at + 19} y={top + height + 16} font-size="11" text-anchor="middle" fill="#1b1f24">
                {month(m.month)}
              </text>
            </>
          );
        })}
      </g>
    </svg>
  );
}

export function IndicatorsPage(props: Frame & { query: Record<string, string>; indicators?: Indicators; problems?: string[]; names: ReadonlyMap<string, string> }) {
  const { t, query, session } = props;
  const i = t.indicators;
  const x = props.indicators;
  const params = x ? new URLSearchParams({ from: x.from, to: x.to }).toString() : "";
  return (
    <Layout {...props} title={i.title}>
      <p>{i.intro(session?.caller.organId ?? "")}</p>
      <form method="get" action="/indicators" class="period">
        <fieldset>
          <legend>{i.period}</legend>
          <div class="row">
            <div class="field">
              <label for="from">{i.from}</label>
              <input id="from" name="from" type="date" value={x?.from ?? query.from ?? ""} />
            </div>
            <div class="field">
              <label for="to">{i.to}</label>
              <input id="to" name="to" type="date" value={x?.to ?? query.to ?? ""} />
            </div>
            <button type="submit">{i.show}</button>
          </div>
        </fieldset>
      </form>
      {props.problems && <ProblemList title={i.problems} problems={props.problems} />}
      {x && (
        <>
          <p>
            <a href={`/indicators.csv?${params}`} download="">
              {i.csv}
            </a>
          </p>
          <section aria-labelledby="summary-title">
            <h2 id="summary-title">{i.summary}</h2>
            <dl class="facts" data-summary="">
              {summary(t, x).map(([label, value]) => (
                <>
                  <dt>{label}</dt>
                  <dd>{value}</dd>
                </>
              ))}
            </dl>
          </section>
          <section aria-labelledby="months-title">
            <h2 id="months-title">{i.chartTitle}</h2>
            <div class="scroll">
              <MonthChart t={t} x={x} />
            </div>
            <DataTable caption={i.chartTitle} columns={[i.month, i.sent, i.received]} rows={x.months.map((m) => [month(m.month), count(t, m.sent), count(t, m.received)])} rowHeaders />
          </section>
          {x.agencies.length > 0 && (
            <section aria-labelledby="agencies-title">
              <h2 id="agencies-title">{i.agencies}</h2>
              <DataTable
                columns={[i.agency, i.sent, i.received]}
                rows={x.agencies.map((a) => [
                  <>
                    {props.names.get(a.organId) ?? a.organId} <span class="id">({a.organId})</span>
                  </>,
                  count(t, a.sent),
                  count(t, a.received),
                ])}
                rowHeaders
              />
            </section>
          )}
          <section aria-labelledby="overdue-title">
            <h2 id="overdue-title">{i.overdue}</h2>
            {x.overdue.length === 0 ? (
              <p>{i.overdueNone}</p>
            ) : (
              <DataTable
                columns={[t.search.columns.code, t.search.columns.subject, i.from_, i.dueDate, i.status]}
                rows={x.overdue.map((d) => [
                  d.code,
                  <a href={`/documents/${d.id}`}>{d.subject}</a>,
                  props.names.get(d.from) ?? d.from,
                  d.dueDate && day(t, d.dueDate),
                  d.status === "received" ? i.statusReceived : statusName(t, d.status),
                ])}
              />
            )}
          </section>
        </>
      )}
    </Layout>
  );
}

/** The indicators as CSV: the summary, the months, the agencies and the overdue documents, one block after another. */
export function indicatorsCsv(t: Dictionary, x: Indicators, names: ReadonlyMap<string, string>): Array<Array<string | number>> {
  const i = t.indicators;
  return [
    [i.period, `${day(t, x.from)} – ${day(t, x.to)}`],
    ...summary(t, x),
    [],
    [i.month, i.sent, i.received],
    ...x.months.map((m) => [month(m.month), m.sent, m.received]),
    [],
    [i.agency, i.sent, i.received],
    ...x.agencies.map((a) => [`${names.get(a.organId) ?? a.organId} (${a.organId})`, a.sent, a.received]),
    [],
    [i.overdue],
    [t.search.columns.code, t.search.columns.subject, i.from_, i.dueDate],
    ...x.overdue.map((d) => [d.code, d.subject, `${names.get(d.from) ?? d.from} (${d.from})`, d.dueDate ? day(t, d.dueDate) : ""]),
  ];
}
