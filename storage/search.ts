// Diacritics-insensitive search: text is folded (Vietnamese tones and marks removed, đ → d,
// lower case) and split into words; each word of a document is a row of search_terms, so
// "quyet dinh" finds "Quyết định" and "den" finds "đến" through an index, on SQLite and
// PostgreSQL alike. The last word of a query also matches as the beginning of a word ("quy"
// finds "Quyết"): a range of that index, since folded words sort byte-wise (ASCII letters and
// digits; PostgreSQL keeps the column in the "C" collation for it).

import type { EdocHeader } from "../envelopes/index.ts";

const MAX_TERM = 100;
const MAX_TERMS = 2000;
const MAX_QUERY_WORDS = 10;

function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase();
}

function words(text: string): string[] {
  return fold(text)
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.slice(0, MAX_TERM));
}

/** The distinct folded words of a text. */
export function terms(text: string): string[] {
  return [...new Set(words(text))].slice(0, MAX_TERMS);
}

/** The names a document is also found by: its signer's and its attachments'. */
export function namesText(h: Pick<EdocHeader, "SignerInfo">, attachments: ReadonlyArray<{ name: string }>): string {
  return [h.SignerInfo?.FullName ?? "", ...attachments.map((a) => a.name)].join(" ");
}

/** A short text (a document type) folded to compare equal however it is written: "Quyết  Định" → "quyet dinh". */
export function foldedPhrase(text: string): string {
  return words(text).join(" ");
}

/** What a query asks for: whole words, and the last word typed as the beginning of a word. */
export function queryTerms(q: string): { exact: string[]; prefix?: string } {
  const all = words(q).slice(0, MAX_QUERY_WORDS);
  const prefix = all.pop();
  return { exact: [...new Set(all)], prefix };
}

/** The smallest text after every word that begins with `prefix`: the end of its index range. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The statuses after which a document's handling is over: it is overdue no more (06 Hoàn thành, 02 refused, 15 taken back). */
export const HANDLING_OVER: readonly string[] = ["06", "02", "15"];

/** The header's DueDate (hạn xử lý, yyyy/MM/dd) as yyyy-mm-dd, the overdue filter's column; null without one. */
export function dueDate(header: Pick<EdocHeader, "DueDate">): string | null {
  const m = /^(\d{4})[/-](\d{2})[/-](\d{2})$/.exec(header.DueDate ?? "");
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}
