// A document as the compose page leaves it: its number, subject and attachments, and where it
// stands with each recipient (refreshed by htmx every few seconds while any is on its way); a
// received one with its sender. The document's full page (signature, timeline, actions) replaces it.
import type { DocumentRecord } from "../../app/index.ts";
import { Layout, type Frame } from "./layout.tsx";
import { dateTime, type Dictionary } from "./i18n.ts";
import { RecipientStates } from "./states.tsx";

/** The recipients' region: polled while a delivery is still queued or sending. */
export function SentStates({ t, record, names }: { t: Dictionary; record: DocumentRecord; names: ReadonlyMap<string, string> }) {
  const moving = record.deliveries.some((d) => d.state === "queued" || d.state === "sending");
  return (
    <div id="states" aria-live="polite" {...(moving ? { "hx-get": `/documents/${record.id}/states`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" } : {})}>
      <RecipientStates t={t} deliveries={record.deliveries} names={names} />
    </div>
  );
}

export function SentPage(props: Frame & { record: DocumentRecord; names: ReadonlyMap<string, string> }) {
  const { t, record } = props;
  const s = t.sent;
  return (
    <Layout {...props} title={record.direction === "out" ? s.title : s.received}>
      <dl class="facts">
        {record.direction === "in" && (
          <>
            <dt>{s.from}</dt>
            <dd>
              {props.names.get(record.from) ?? record.from} ({record.from})
            </dd>
          </>
        )}
        <dt>{s.code}</dt>
        <dd class="code">{record.code}</dd>
        <dt>{s.subject}</dt>
        <dd>{record.subject}</dd>
        <dt>{s.kind}</dt>
        <dd>{record.type}</dd>
        <dt>{s.sentAt}</dt>
        <dd>{dateTime(t, record.createdAt)}</dd>
        <dt>{s.attachments}</dt>
        <dd>
          <ul>
            {record.attachments.map((a) => (
              <li>{a.name}</li>
            ))}
          </ul>
        </dd>
      </dl>
      {record.direction === "out" && <SentStates t={t} record={record} names={props.names} />}
      <p>
        <a href={`/documents/${record.id}`}>{s.refresh}</a>
      </p>
    </Layout>
  );
}
