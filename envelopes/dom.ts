// The tree the strict parser builds (xml.ts): the part of the DOM that the readers, the verifier and
// the canonicaliser use, under the DOM's names (so the DOM's types describe it), and nothing else.
// xmldom's, used before, spent half of each parse keeping live lists and namespace maps no one read.
// As xmldom's, getAttribute gives "" for an attribute that is absent, and `attributes` holds the
// namespace declarations too.

const ELEMENT = 1;

abstract class TreeNode {
  abstract readonly nodeType: number;
  abstract readonly nodeName: string;
  parentNode: TreeNode | null = null;
  firstChild: TreeNode | null = null;
  lastChild: TreeNode | null = null;
  previousSibling: TreeNode | null = null;
  nextSibling: TreeNode | null = null;
  readonly childNodes: TreeNode[] = [];
  constructor(public ownerDocument: TreeDocument | null) {}

  get nodeValue(): string | null {
    return null;
  }

  get textContent(): string | null {
    let out = "";
    for (let n = this.firstChild; n; n = n.nextSibling) if (n.nodeType !== 8) out += n.textContent ?? "";
    return out;
  }

  appendChild<T extends TreeNode>(child: T): T {
    return this.insertBefore(child, null);
  }

  insertBefore<T extends TreeNode>(child: T, before: TreeNode | null): T {
    if (before && before.parentNode !== this) throw new Error("insertBefore: the reference node is not a child of this node");
    if (child.parentNode) child.parentNode.removeChild(child);
    const previous = before ? before.previousSibling : this.lastChild;
    child.parentNode = this;
    child.previousSibling = previous;
    child.nextSibling = before;
    if (previous) previous.nextSibling = child;
    else this.firstChild = child;
    if (before) before.previousSibling = child;
    else this.lastChild = child;
    if (before) this.childNodes.splice(this.childNodes.indexOf(before), 0, child);
    else this.childNodes.push(child);
    return child;
  }

  removeChild<T extends TreeNode>(child: T): T {
    if (child.parentNode !== this) throw new Error("removeChild: not a child of this node");
    if (child.previousSibling) child.previousSibling.nextSibling = child.nextSibling;
    else this.firstChild = child.nextSibling;
    if (child.nextSibling) child.nextSibling.previousSibling = child.previousSibling;
    else this.lastChild = child.previousSibling;
    this.childNodes.splice(this.childNodes.indexOf(child), 1);
    child.parentNode = child.previousSibling = child.nextSibling = null;
    return child;
  }

  abstract cloneNode(deep?: boolean): TreeNode;

  protected cloneChildrenInto<T extends TreeNode>(copy: T, deep: boolean | undefined): T {
    if (deep) for (let n = this.firstChild; n; n = n.nextSibling) copy.appendChild(n.cloneNode(true));
    return copy;
  }
}

class TreeAttr {
  readonly nodeType = 2;
  readonly prefix: string | null;
  readonly localName: string;
  constructor(
    readonly namespaceURI: string | null,
    readonly name: string,
    public value: string,
  ) {
    const colon = name.indexOf(":");
    this.prefix = colon < 0 ? null : name.slice(0, colon);
    this.localName = colon < 0 ? name : name.slice(colon + 1);
  }
  get nodeName(): string {
    return this.name;
  }
  get nodeValue(): string {
    return this.value;
  }
}

class TreeElement extends TreeNode {
  readonly nodeType = ELEMENT;
  readonly prefix: string | null;
  readonly localName: string;
  readonly attributes: TreeAttr[] = [];
  constructor(
    owner: TreeDocument | null,
    readonly namespaceURI: string | null,
    readonly tagName: string,
  ) {
    super(owner);
    const colon = tagName.indexOf(":");
    this.prefix = colon < 0 ? null : tagName.slice(0, colon);
    this.localName = colon < 0 ? tagName : tagName.slice(colon + 1);
  }
  get nodeName(): string {
    return this.tagName;
  }
  private attribute(name: string): TreeAttr | undefined {
    for (const a of this.attributes) if (a.name === name) return a;
    return undefined;
  }
  getAttribute(name: string): string {
    return this.attribute(name)?.value ?? "";
  }
  /** Sets an attribute without a namespace (replacing one of that name). */
  setAttribute(name: string, value: string): void {
    this.setAttributeNS(null, name, value);
  }
  setAttributeNS(namespaceURI: string | null, name: string, value: string): void {
    const old = this.attribute(name);
    if (old && old.namespaceURI === namespaceURI) old.value = value;
    else this.attributes.push(new TreeAttr(namespaceURI, name, value));
  }
  cloneNode(deep?: boolean): TreeElement {
    const copy = new TreeElement(this.ownerDocument, this.namespaceURI, this.tagName);
    for (const a of this.attributes) copy.attributes.push(new TreeAttr(a.namespaceURI, a.name, a.value));
    return this.cloneChildrenInto(copy, deep);
  }
}

/** Text (3), CDATA (4) or a comment (8). */
class TreeCharacterData extends TreeNode {
  constructor(
    owner: TreeDocument | null,
    readonly nodeType: 3 | 4 | 8,
    public data: string,
  ) {
    super(owner);
  }
  get nodeName(): string {
    return this.nodeType === 3 ? "#text" : this.nodeType === 4 ? "#cdata-section" : "#comment";
  }
  override get nodeValue(): string {
    return this.data;
  }
  override get textContent(): string {
    return this.data;
  }
  cloneNode(): TreeCharacterData {
    return new TreeCharacterData(this.ownerDocument, this.nodeType, this.data);
  }
}

class TreeDocument extends TreeNode {
  readonly nodeType = 9;
  readonly nodeName = "#document";
  documentElement: TreeElement | null = null;
  constructor() {
    super(null);
  }
  override appendChild<T extends TreeNode>(child: T): T {
    if (child.nodeType === ELEMENT) {
      if (this.documentElement) throw new Error("a document has one root element");
      this.documentElement = child as unknown as TreeElement;
    }
    return super.appendChild(child);
  }
  override removeChild<T extends TreeNode>(child: T): T {
    if ((child as unknown) === this.documentElement) this.documentElement = null;
    return super.removeChild(child);
  }
  createElementNS(namespaceURI: string | null, tagName: string): TreeElement {
    return new TreeElement(this, namespaceURI, tagName);
  }
  createTextNode(data: string): TreeCharacterData {
    return new TreeCharacterData(this, 3, data);
  }
  createCDATASection(data: string): TreeCharacterData {
    return new TreeCharacterData(this, 4, data);
  }
  createComment(data: string): TreeCharacterData {
    return new TreeCharacterData(this, 8, data);
  }
  cloneNode(deep?: boolean): TreeDocument {
    return this.cloneChildrenInto(new TreeDocument(), deep);
  }
}

/** An empty document, typed as the DOM's. */
export function newDocument(): Document {
  return new TreeDocument() as unknown as Document;
}
