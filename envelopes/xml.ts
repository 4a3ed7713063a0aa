// One strict XML parser for everything security-relevant: the xmldom line that xml-crypto uses,
// with every warning and error fatal, and DTDs, entities and stray processing instructions refused.
import { DOMParser } from "@xmldom/xmldom";

export const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
export const XADES_NS = "http://uri.etsi.org/01903/v1.3.2#";

/** Thrown for input that is not acceptable XML; the message is meant for people. */
export class XmlError extends Error {}

const NODE = { ELEMENT: 1, TEXT: 3, CDATA: 4, ENTITY_REF: 5, ENTITY: 6, PI: 7, COMMENT: 8, DOCTYPE: 10 };

/** Refuse DOCTYPE/ENTITY and any processing instruction but a leading XML declaration declaring UTF-8. */
export function checkPrologue(text: string): void {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const decl = /^<\?xml\s[^?]*\?>/.exec(body);
  if (decl) {
    const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(decl[0]);
    if (enc && enc[1].toUpperCase() !== "UTF-8") {
      throw new XmlError(`only UTF-8 is accepted, the packet declares encoding "${enc[1]}"`);
    }
  }
  const rest = decl ? body.slice(decl[0].length) : body;
  if (rest.includes("<?")) throw new XmlError("processing instructions are not allowed");
}

/** Parse strictly: every parser complaint is fatal; no DTD, entities, PIs or second root survive. */
export function parseStrict(text: string): Document {
  checkPrologue(text);
  const fail = (msg: string) => {
    throw new XmlError(`not well-formed XML: ${String(msg).replace(/\s+/g, " ").trim()}`);
  };
  const doc = new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } }).parseFromString(
    text,
    "text/xml",
  ) as unknown as Document;
  if (!doc || !doc.documentElement) throw new XmlError("not well-formed XML: no root element");
  if (doc.doctype) throw new XmlError("DOCTYPE declarations are not allowed");
  let roots = 0;
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT) roots++;
    else if (n.nodeType === NODE.PI && (n as ProcessingInstruction).target !== "xml") {
      throw new XmlError("processing instructions are not allowed");
    } else if (n.nodeType === NODE.TEXT && (n.nodeValue ?? "").trim() !== "") {
      throw new XmlError("text outside the root element");
    } else if (n.nodeType === NODE.DOCTYPE || n.nodeType === NODE.ENTITY || n.nodeType === NODE.ENTITY_REF) {
      throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
    }
  }
  if (roots !== 1) throw new XmlError("exactly one root element is allowed");
  walk(doc.documentElement, 0);
  return doc;
}

const MAX_DEPTH = 64;
function walk(node: Node, depth: number): void {
  if (depth > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH} levels`);
  for (let n = node.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.PI) throw new XmlError("processing instructions are not allowed");
    if (n.nodeType === NODE.ENTITY_REF || n.nodeType === NODE.ENTITY || n.nodeType === NODE.DOCTYPE) {
      throw new XmlError("entity references are not allowed");
    }
    if (n.nodeType === NODE.ELEMENT) walk(n, depth + 1);
  }
}

/** Element children, optionally filtered by local name (namespace prefixes ignored, as readers in the wild do). */
export function children(el: Element, localName?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && (!localName || (n as Element).localName === localName)) out.push(n as Element);
  }
  return out;
}

export function child(el: Element, ...names: string[]): Element | undefined {
  for (const name of names) {
    const found = children(el, name)[0];
    if (found) return found;
  }
  return undefined;
}

/** Text of a child element, trimmed; undefined when absent or empty. */
export function text(el: Element | undefined, ...names: string[]): string | undefined {
  const target = names.length ? (el ? child(el, ...names) : undefined) : el;
  const value = target?.textContent?.trim();
  return value ? value : undefined;
}

/** Every element of a subtree in document order, the root first. */
export function allElements(root: Element): Element[] {
  const out: Element[] = [];
  const todo: Element[] = [root];
  while (todo.length) {
    const el = todo.pop()!;
    out.push(el);
    todo.push(...children(el).reverse());
  }
  return out;
}

export function isComment(n: Node): boolean {
  return n.nodeType === NODE.COMMENT;
}
export function isCData(n: Node): boolean {
  return n.nodeType === NODE.CDATA;
}
