// The one place for the names of where a sent document stands with each recipient (UI contract:
// Chờ gửi, Đang gửi, Đã đến, Gửi không thành công) and of the statuses a recipient sends back
// (edxml.md §3.2), for every page that shows them.
import type { DocumentRecord } from "../../app/index.ts";
import { dateTime, type Dictionary } from "./i18n.ts";

type Delivery = DocumentRecord["deliveries"][number];

/** The delivery state's name: a recipient that sent any status has the document (receipt 01 held). */
export function deliveryStateName(t: Dictionary, state: string): string {
  if (state === "queued" || state === "sending" || state === "failed") return t.states.delivery[state];
  return t.states.delivery.delivered;
}

/** A status code's name (01 Đã đến … 16 Từ chối lấy lại); the code itself when unknown. */
export const statusName = (t: Dictionary, code: string): string => t.states.status[code] ?? code;

/** Each recipient of a sent document: its name and organ id, the delivery state, then its last status below. */
export function RecipientStates({ t, deliveries, names }: { t: Dictionary; deliveries: Delivery[]; names: ReadonlyMap<string, string> }) {
  return (
    <table class="grid recipients">
      <caption>{t.states.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t.states.recipient}</th>
          <th scope="col">{t.states.state}</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.map((d) => (
          <tr>
            <th scope="row">
              {names.get(d.organId) ?? d.organId} <span class="id">({d.organId})</span>
            </th>
            <td>
              <p class={`state ${d.state === "failed" ? "bad" : ""}`}>
                <strong>{deliveryStateName(t, d.state)}</strong>
                {d.state === "queued" && d.attempts > 0 && d.nextAttemptAt && <span class="hint"> · {t.states.nextAttempt(dateTime(t, d.nextAttemptAt))}</span>}
              </p>
              {/^\d\d$/.test(d.state) && <p class="status">{statusName(t, d.state)}</p>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
