// CSV for the downloads of the pages (Tra cứu, Chỉ số): RFC 4180 (fields quoted when they need
// it, CRLF), UTF-8 with a byte order mark so that Excel shows Vietnamese as it is. A text that
// begins like a formula (= + - @, a tab or a carriage return) is prefixed with ' so that a
// spreadsheet shows it as text and never runs it: the subjects come from other agencies.
const FORMULA = /^[=+\-@\t\r]/;

function cell(v: string | number): string {
  if (typeof v === "number") return String(v);
  const text = FORMULA.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csv(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return "\uFEFF" + rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}
