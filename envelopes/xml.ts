// One strict XML parser for everything security-relevant. saxes (the conformant XML 1.0 parser
// jsdom uses) does the parsing, every error fatal; the tree is built with xmldom's DOM, which
// xml-crypto's canonicaliser works on. DTDs, entities and processing instructions are refused.
// xmldom's own parser is not used: it recovers from errors and was 3–4× slower on our headers.
import { DOMImplementation } from "@xmldom/xmldom";
import { SaxesParser, type SaxesTagNS } from "saxes";

export const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
export const XADES_NS = "http://uri.etsi.org/01903/v1.3.2#";

/** Thrown for input that is not acceptable XML; the message is meant for people. */
export class XmlError extends Error {
  override name = "XmlError";
}

/** Ends a check of a document: what is wrong, in English and in Vietnamese (each check's caller
 *  decides what that becomes: a FORMAT_FAILURE, a SnapshotError, …). */
export type Refuse = (en: string, vi: string) => never;

const NODE = { ELEMENT: 1, TEXT: 3, CDATA: 4, COMMENT: 8 };
/** Deeper is refused, by the strict parser and already by the streaming scanner (scan.ts). */
export const MAX_DEPTH = 64;
/** A packet's skeleton has a few hundred elements; far more is an attempt to exhaust the verifier. */
export const MAX_ELEMENTS = 100_000;
const dom = new DOMImplementation();

/** Parse strictly: every parser complaint is fatal; no DTD, entities, PIs or second root survive. */
export function parseStrict(text: string): Document {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
  }
  const doc = dom.createDocument(null, null as unknown as string, null) as unknown as Document;
  let current: Node = doc;
  let depth = 0;
  let elements = 0;
  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on("xmldecl", (decl) => {
    if (decl.encoding !== undefined && decl.encoding.toUpperCase() !== "UTF-8") {
      throw new XmlError(`only UTF-8 is accepted, the packet declares encoding "${decl.encoding}"`);
    }
    // XML 1.1 turns NEL and LINE SEPARATOR into line feeds: signed text no XML 1.0 peer would see
    if (decl.version !== undefined && decl.version !== "1.0") {
      throw new XmlError(`only XML 1.0 is accepted, the packet declares version "${decl.version}"`);
    }
  });
  parser.on("doctype", () => {
    throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
  });
  parser.on("processinginstruction", () => {
    throw new XmlError("processing instructions are not allowed");
  });
  parser.on("opentag", (tag: SaxesTagNS) => {
    if (++depth > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH} levels`);
    if (++elements > MAX_ELEMENTS) throw new XmlError(`more than ${MAX_ELEMENTS} elements`);
    const el = doc.createElementNS(tag.uri || null, tag.name);
    for (const a of Object.values(tag.attributes)) el.setAttributeNS(a.uri || null, a.name, a.value);
    current.appendChild(el);
    current = el;
  });
  parser.on("closetag", () => {
    depth--;
    current = current.parentNode!;
  });
  parser.on("text", (t) => {
    if (current !== doc) current.appendChild(doc.createTextNode(t));
    else if (t.trim()) throw new XmlError("text outside the root element");
  });
  parser.on("cdata", (t) => {
    current.appendChild(doc.createCDATASection(t));
  });
  parser.on("comment", (t) => {
    if (current !== doc) current.appendChild(doc.createComment(t));
  });
  parser.on("error", (err) => {
    throw new XmlError(`not well-formed XML: ${err.message.replace(/\s+/g, " ").trim()}`);
  });
  parser.write(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).close();
  if (!doc.documentElement) throw new XmlError("not well-formed XML: no root element");
  return doc;
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
    const kids = children(el); // pushed one by one: spreading 300 000 children overflows the stack
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]);
  }
  return out;
}

export function isComment(n: Node): boolean {
  return n.nodeType === NODE.COMMENT;
}
export function isCData(n: Node): boolean {
  return n.nodeType === NODE.CDATA;
}
