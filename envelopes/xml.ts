// One strict XML parser for everything security-relevant, written for what it parses: packet
// skeletons of a few kilobytes, most of it base64 text. It checks what an XML 1.0 + Namespaces
// parser must (every character allowed, names, quoting, one root, matching end tags, references
// to the five predefined entities or to allowed characters only, unique attributes by name and by
// namespace, bound prefixes) and refuses DTDs, entities and processing instructions; every problem
// is fatal. It scans with native searches (indexOf, sticky regular expressions) instead of a
// character at a time: saxes, used before, spent most of a verification walking base64 text.
// The tree is a small DOM of its own (dom.ts), which signing/xmldsig.ts canonicalises.
import { newDocument } from "./dom.ts";

export const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
export const XADES_NS = "http://uri.etsi.org/01903/v1.3.2#";
const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

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

// XML 1.0 (fifth edition) §2.2 Char and §2.3 NameStartChar / NameChar, without the colon (Namespaces: NCName)
/** What may not be a Char, as one class: far faster than NOT_CHAR, which has to pair surrogates. */
const MAYBE_NOT_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const NOT_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const START = "A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}";
const NCNAME = `[${START}][${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`;
/** A qualified name (prefix:local or local) at the sticky position. */
const QNAME = new RegExp(`${NCNAME}(?::${NCNAME})?`, "uy");
/** Any name, to tell a malformed qualified name ("a:b:c", ":a") from a missing one. */
const ANY_NAME = new RegExp(`[:${START}][:${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, "uy");
const SPACE = /[ \t\n]*/y;
const ATTRIBUTE_EQ = /[ \t\n]*=[ \t\n]*(["'])/y;
const XML_DECL = /<\?xml(?:[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"([^"]*)"|'([^']*)'))(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>/y;
const REFERENCE = /&(?:#([0-9]+)|#x([0-9A-Fa-f]+)|([^;&<]*));/g;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' };
/**
 * A namespace name: an absolute URI (RFC 3986 scheme, then its characters, '%' only as an escape).
 * C14N 1.0 §2.1 fails on relative ones and libxml2, xmlsec1's canonicaliser, on anything it cannot
 * parse as a URI; '&', legal in a URI, is left out too: the recommendation escapes it in a
 * namespace node, libxml2 and xml-crypto write it bare, so no two peers would agree on the signed bytes.
 */
const NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9+.-]*:(?:\/\/\[[0-9A-Fa-f:.]+\])?(?:[A-Za-z0-9\-._~!$'()*+,;=:@/?#]|%[0-9A-Fa-f]{2})*$/;

const malformed = (why: string): never => {
  throw new XmlError(`not well-formed XML: ${why}`);
};

/** Text with its references replaced: the five predefined entities and allowed characters only. */
function resolve(text: string): string {
  if (text.indexOf("&") < 0) return text;
  let out = "";
  let last = 0;
  for (REFERENCE.lastIndex = 0; ; ) {
    const at = text.indexOf("&", last);
    if (at < 0) break;
    REFERENCE.lastIndex = at;
    const m = REFERENCE.exec(text);
    if (!m || m.index !== at) malformed("a '&' that does not start a reference");
    let value: string;
    if (m![3] !== undefined) {
      value = PREDEFINED[m![3]] ?? malformed(`undefined entity &${m![3]};`);
    } else {
      const code = m![1] !== undefined ? Number(m![1]) : parseInt(m![2], 16);
      value = code <= 0x10ffff ? String.fromCodePoint(code) : "";
      if (!value || NOT_CHAR.test(value)) malformed(`a character reference to a character XML does not allow (${m![0]})`);
    }
    out += text.slice(last, at) + value;
    last = at + m![0].length;
  }
  return out + text.slice(last);
}

interface Scope {
  /** prefix ("" for the default namespace) → namespace URI ("" unbinds the default) */
  ns: Map<string, string>;
  name: string;
  el: Node;
}

/** Where the parse is. */
interface State {
  text: string;
  doc: Document;
  stack: Scope[];
  elements: number;
  rootDone: boolean;
}

/** Parse strictly: every problem is fatal; no DTD, entities, PIs or second root survive. */
export function parseStrict(input: string): Document {
  if (/<!DOCTYPE/i.test(input) || /<!ENTITY/i.test(input)) {
    throw new XmlError("DOCTYPE and ENTITY declarations are not allowed");
  }
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  // the full check only for text with a surrogate or a character XML refuses
  const bad = MAYBE_NOT_CHAR.test(text) ? NOT_CHAR.exec(text) : null;
  if (bad) malformed(`the character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} is not allowed in XML`);
  // §2.11: line ends are read as LF
  if (text.indexOf("\r") >= 0) text = text.replace(/\r\n?/g, "\n");
  const doc = newDocument();
  const stack: Scope[] = [{ ns: new Map([["xml", XML_NS], ["", ""]]), name: "", el: doc }];
  const state: State = { text, doc, stack, elements: 0, rootDone: false };
  let pos = 0;

  XML_DECL.lastIndex = 0;
  const decl = text.startsWith("<?xml") && /[ \t\n?]/.test(text[5] ?? "") ? XML_DECL.exec(text) : null;
  if (text.startsWith("<?xml") && /[ \t\n?]/.test(text[5] ?? "")) {
    if (!decl) malformed("the XML declaration is malformed");
    const version = decl![1] ?? decl![2];
    // XML 1.1 turns NEL and LINE SEPARATOR into line feeds: signed text no XML 1.0 peer would see
    if (version !== "1.0") throw new XmlError(`only XML 1.0 is accepted, the packet declares version "${version}"`);
    const encoding = decl![3] ?? decl![4];
    if (encoding !== undefined && encoding.toUpperCase() !== "UTF-8") {
      throw new XmlError(`only UTF-8 is accepted, the packet declares encoding "${encoding}"`);
    }
    pos = decl![0].length;
  }

  while (pos < text.length) {
    const lt = text.indexOf("<", pos);
    const end = lt < 0 ? text.length : lt;
    if (end > pos) {
      const raw = text.slice(pos, end);
      if (stack.length === 1) {
        // XML's white space only (line ends are LF by now): trim() would pass NBSP, BOM, U+2028 …
        if (/[^ \t\n]/.test(raw)) throw new XmlError("text outside the root element");
      } else {
        if (raw.indexOf("]]>") >= 0) malformed("']]>' in text");
        stack[stack.length - 1].el.appendChild(doc.createTextNode(resolve(raw)));
      }
    }
    if (lt < 0) break;
    pos = lt;
    const next = text.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (text.startsWith("<!--", lt)) {
        const close = text.indexOf("--", lt + 4);
        if (close < 0) malformed("a comment is not closed");
        if (text.charCodeAt(close + 2) !== 0x3e) malformed("'--' inside a comment");
        if (stack.length > 1) stack[stack.length - 1].el.appendChild(doc.createComment(text.slice(lt + 4, close)));
        pos = close + 3;
      } else if (text.startsWith("<![CDATA[", lt)) {
        if (stack.length === 1) malformed("CDATA outside the root element");
        const close = text.indexOf("]]>", lt + 9);
        if (close < 0) malformed("a CDATA section is not closed");
        stack[stack.length - 1].el.appendChild(doc.createCDATASection(text.slice(lt + 9, close)));
        pos = close + 3;
      } else {
        malformed("'<!' that starts neither a comment nor a CDATA section");
      }
    } else if (next === 0x3f /* ? */) {
      throw new XmlError("processing instructions are not allowed");
    } else if (next === 0x2f /* / */) {
      const top = stack[stack.length - 1];
      const name = text.startsWith(top.name, lt + 2) ? top.name : "";
      if (!name || stack.length === 1) malformed(`an end tag that does not close <${top.name || "…"}>`);
      SPACE.lastIndex = lt + 2 + name.length;
      SPACE.exec(text);
      if (text.charCodeAt(SPACE.lastIndex) !== 0x3e) malformed(`the end tag </${name}> is not closed by '>' (or does not close <${name}>)`);
      pos = SPACE.lastIndex + 1;
      stack.pop();
      if (stack.length === 1) state.rootDone = true;
    } else {
      pos = startTag(state, lt);
    }
  }
  if (stack.length > 1) malformed(`<${stack[stack.length - 1].name}> is not closed`);
  if (!doc.documentElement) throw new XmlError("not well-formed XML: no root element");
  return doc;
}

/** The start tag at `lt`; returns where parsing continues. */
function startTag(state: State, lt: number): number {
  const { text, doc, stack } = state;
  const name = qname(text, lt + 1, "an element name");
  if (state.rootDone) malformed("a second root element");
  if (stack.length > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH} levels`);
  if (++state.elements > MAX_ELEMENTS) throw new XmlError(`more than ${MAX_ELEMENTS} elements`);
  let at = lt + 1 + name.length;
  const attributes: [string, string][] = [];
  let closed = false;
  for (;;) {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    const spaced = SPACE.lastIndex > at;
    at = SPACE.lastIndex;
    const c = text.charCodeAt(at);
    if (c === 0x3e) {
      at += 1;
      break;
    }
    if (c === 0x2f && text.charCodeAt(at + 1) === 0x3e) {
      at += 2;
      closed = true;
      break;
    }
    if (!spaced) malformed(`<${name}>: attributes must be separated by white space and the tag closed by '>'`);
    const attr = qname(text, at, "an attribute name");
    ATTRIBUTE_EQ.lastIndex = at + attr.length;
    const eq = ATTRIBUTE_EQ.exec(text);
    if (!eq) malformed(`<${name}>: the attribute ${attr} needs '=' and a quoted value`);
    const valueStart = ATTRIBUTE_EQ.lastIndex;
    const close = text.indexOf(eq![1], valueStart);
    if (close < 0) malformed(`<${name}>: the value of ${attr} is not closed`);
    const raw = text.slice(valueStart, close);
    if (raw.indexOf("<") >= 0) malformed(`<${name}>: '<' in the value of ${attr}`);
    if (attributes.some(([n]) => n === attr)) malformed(`<${name}> carries the attribute ${attr} twice`);
    // §3.3.3: each white-space character of the literal value becomes a space (references stay)
    attributes.push([attr, resolve(raw.replace(/[\t\n]/g, " "))]);
    at = close + 1;
  }

  // Namespaces: the declarations first, then the element's and its attributes' prefixes
  const parent = stack[stack.length - 1];
  let ns = parent.ns;
  for (const [attr, value] of attributes) {
    const prefix = attr === "xmlns" ? "" : attr.startsWith("xmlns:") ? attr.slice(6) : null;
    if (prefix === null) continue;
    if (prefix === "xmlns") malformed("the prefix xmlns cannot be declared");
    if (prefix === "xml" ? value !== XML_NS : value === XML_NS || value === XMLNS_NS) malformed(`the prefix ${prefix || "(default)"} cannot be bound to ${value}`);
    if (prefix && !value) malformed(`the prefix ${prefix} cannot be undeclared in XML 1.0`);
    if (value && !NAMESPACE_NAME.test(value)) throw new XmlError(`the namespace name "${value}" is not an absolute URI that canonical XML can carry`);
    if (ns === parent.ns) ns = new Map(ns);
    ns.set(prefix, value);
  }
  const el = doc.createElementNS(uriOf(ns, name, true), name);
  const expanded = new Set<string>();
  for (const [attr, value] of attributes) {
    const isDecl = attr === "xmlns" || attr.startsWith("xmlns:");
    const uri = isDecl ? XMLNS_NS : uriOf(ns, attr, false);
    if (uri !== null && !isDecl) {
      const key = `{${uri}}${attr.slice(attr.indexOf(":") + 1)}`;
      if (expanded.has(key)) malformed(`<${name}> carries the attribute ${key} twice`);
      expanded.add(key);
    }
    el.setAttributeNS(uri, attr, value);
  }
  parent.el.appendChild(el);
  if (closed) {
    if (stack.length === 1) state.rootDone = true;
  } else {
    stack.push({ ns, name, el });
  }
  return at;
}

/** The namespace of an element's or attribute's qualified name (an unprefixed attribute has none). */
function uriOf(ns: Map<string, string>, qualified: string, isElement: boolean): string | null {
  const colon = qualified.indexOf(":");
  if (colon < 0) return isElement ? ns.get("")! || null : null;
  const prefix = qualified.slice(0, colon);
  const uri = ns.get(prefix);
  if (!uri) malformed(`the prefix ${prefix} of ${qualified} is not declared`);
  return uri!;
}

/** The common case of a qualified name, ASCII, followed by what may follow a name. */
const ASCII_QNAME = /[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?/y;
const AFTER_NAME = new Set([0x20, 0x09, 0x0a, 0x3e, 0x2f, 0x3d]); // space, tab, LF, > / =

/** The qualified name at `at`. */
function qname(text: string, at: number, what: string): string {
  ASCII_QNAME.lastIndex = at;
  const ascii = ASCII_QNAME.exec(text);
  if (ascii && AFTER_NAME.has(text.charCodeAt(at + ascii[0].length))) return ascii[0];
  QNAME.lastIndex = at;
  const m = QNAME.exec(text);
  ANY_NAME.lastIndex = at;
  const any = ANY_NAME.exec(text);
  if (!m || (any && any[0].length !== m[0].length)) malformed(any ? `${any[0]} is not a qualified name` : `${what} is missing or malformed`);
  return m![0];
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

/**
 * Text of a child element, trimmed of XML white space only (space, tab, CR, LF): a signed value
 * that ends in a no-break space keeps it, as every other XML reader sees it; undefined when absent or empty.
 */
export function text(el: Element | undefined, ...names: string[]): string | undefined {
  const target = names.length ? (el ? child(el, ...names) : undefined) : el;
  const value = target?.textContent?.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
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
