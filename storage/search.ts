// Diacritics-insensitive search: text is folded (Vietnamese tones and marks removed, đ → d,
// lower case) and split into words; each word is a row of search_terms, so a query word is a
// prefix range on an index (`quyet` finds "Quyết định", `d` finds "đ…") on SQLite and PostgreSQL
// alike, and stays fast at millions of documents.

const MAX_TERM = 100;
const MAX_TERMS = 2000;

export function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase();
}

/** The distinct folded words of a text. */
export function terms(text: string): string[] {
  const words = fold(text)
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.slice(0, MAX_TERM));
  return [...new Set(words)].slice(0, MAX_TERMS);
}

/** The upper bound of a prefix range: "quyet" → "quyeu" (terms are [a-z0-9] only). */
export function prefixEnd(term: string): string {
  return term.slice(0, -1) + String.fromCharCode(term.charCodeAt(term.length - 1) + 1);
}
