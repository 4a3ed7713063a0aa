// Diacritics-insensitive search: text is folded (Vietnamese tones and marks removed, đ → d,
// lower case) and split into words; each word of a document is a row of search_terms, so
// "quyet dinh" finds "Quyết định" and "den" finds "đến" through an index, on SQLite and
// PostgreSQL alike.

const MAX_TERM = 100;
const MAX_TERMS = 2000;

function fold(text: string): string {
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
