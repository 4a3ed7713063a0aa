// The one place for the names of where a sent document stands with each recipient (UI contract:
// Chờ gửi, Đang gửi, Đã đến, Gửi không thành công; and, through the national axle, relayed) and of the statuses a recipient sends back
// (edxml.md §3.2), for every page that shows them.
import type { Dictionary } from "./i18n.ts";

/** The delivery state's name: a recipient that sent any status has the document (receipt 01 held). */
export function deliveryStateName(t: Dictionary, state: string): string {
  if (state === "queued" || state === "sending" || state === "relayed" || state === "failed") return t.delivery[state];
  return t.delivery.delivered;
}

/** A status code's name (01 Đã đến … 16 Từ chối lấy lại); the code itself when unknown. */
export const statusName = (t: Dictionary, code: string): string => t.statusNames[code] ?? code;
