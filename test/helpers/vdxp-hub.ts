// A national-axle hub for tests, written from ../shared/reference/edxml.md §7 (not from the
// node's client): an HTTP server on 127.0.0.1 that checks every request's XroadVnpt-* headers and
// HMAC exactly as the VPCP/VNPT SDK computes them, routes packets by organ id to a per-system
// inbox, and can be told to fail, time out, answer something that is not JSON, or deliver again.
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface HubItem {
  docId: string;
  messageType: "edoc" | "status";
  from: string;
  to: string;
  /** The system whose inbox holds it. */
  system: string;
  bytes: Buffer;
  acked: "done" | "fail" | null;
}

type Fault = "fail" | "timeout" | "non-json" | "http-500";

export interface TestHub {
  url: string;
  /** Every packet ever put in an inbox, in order. */
  items: HubItem[];
  /** Requests refused for their headers or HMAC, with the reason. */
  refused: string[];
  /** Every call, as "path systemid". */
  calls: string[];
  /** The next `count` calls to `path` (by `system`, or by anyone) meet `fault`. */
  fault(path: string, fault: Fault, count?: number, system?: string): void;
  /** Puts a packet in a system's inbox, as if another system had sent it. */
  deliver(item: { system: string; messageType: "edoc" | "status"; from: string; to: string; bytes: Buffer }): HubItem;
  /** The hub delivers a packet again, under a new docId. */
  replay(docId: string): HubItem;
  /** The directory getAgenciesList and getSynchronizeUnit answer. */
  directory: { agencies: Array<Record<string, unknown>>; units: Array<Record<string, unknown>> };
  close(): Promise<void>;
}

const P = "xroadvnpt-";

/** `Integer.toHexString(0xFF & b)` for each byte of the SHA-256: no zero padding. */
function sdkHex(bytes: Buffer): string {
  return [...createHash("sha256").update(bytes).digest()].map((b) => (0xff & b).toString(16)).join("");
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/**
 * `accounts`: systemId → secret; `routes`: organ id → the system it is reached at.
 * `timeoutMs`: how long a "timeout" fault keeps the client waiting.
 */
export async function startHub(accounts: Record<string, string>, routes: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<TestHub> {
  const faults = new Map<string, Fault[]>();
  const sockets = new Set<import("node:net").Socket>();
  const hub: Omit<TestHub, "url" | "close"> = {
    items: [],
    refused: [],
    calls: [],
    directory: { agencies: [], units: [] },
    fault(path, fault, count = 1, system) {
      const key = system ? `${path} ${system}` : path;
      faults.set(key, [...(faults.get(key) ?? []), ...Array(count).fill(fault)]);
    },
    deliver(i) {
      const item: HubItem = { ...i, docId: randomUUID(), acked: null };
      hub.items.push(item);
      return item;
    },
    replay(docId) {
      const old = hub.items.find((i) => i.docId === docId);
      if (!old) throw new Error(`no item ${docId}`);
      return hub.deliver(old);
    },
  };

  const answer = (res: ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const ok = (extra: Record<string, unknown> = {}) => ({ status: "OK", ErrorCode: "0", ErrorDesc: "Thành công", ...extra });
  const failure = (desc: string, code = "-1") => ({ status: "FAIL", ErrorCode: code, ErrorDesc: desc });

  /** §7.2: the signed header JSON, its key list, each XroadVnpt-* header and the HMAC. Returns the logical headers, or why not. */
  function authenticate(req: IncomingMessage): { system: string; h: Record<string, string> } | string {
    const get = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const signHeader = get(`${P}sign-header`);
    const keys = get(`${P}sign-header-key`);
    const hash = get(`${P}hash-header`);
    if (!signHeader || !keys || !hash) return "sign-header, sign-header-key or hash-header missing";
    if (get("user-agent") !== "JAVASDKAgent/1.0.0 XRoad/VPCP" || get(`${P}version`) !== "3.0.201608") return "not the SDK's User-Agent and version";
    let signed: Record<string, unknown>;
    try {
      signed = JSON.parse(signHeader);
    } catch {
      return "sign-header is not JSON";
    }
    const names = keys.split(";");
    if (JSON.stringify(Object.keys(signed)) !== JSON.stringify(names.map((n) => `XroadVnpt-${n}`))) return "sign-header-key does not list the sign-header's keys in order";
    const h: Record<string, string> = {};
    for (const n of names) {
      const v = signed[`XroadVnpt-${n}`];
      if (typeof v !== "string" || get(`${P}${n}`) !== v) return `header XroadVnpt-${n} differs from the signed one`;
      h[n] = v;
    }
    for (const required of ["systemid", "timestamp", "Content-Type"]) if (!h[required]) return `${required} is not signed`;
    if (!/^\d{8}T\d{6}\+\d{4}$/.test(h.timestamp)) return `timestamp ${h.timestamp} is not ddMMyyyy'T'HHmmss+SSSS`;
    if (get("content-type") !== h["Content-Type"]) return "Content-Type differs from the signed one";
    const secret = accounts[h.systemid];
    if (secret === undefined) return `unknown system ${h.systemid}`;
    // the secret's UTF-8 bytes as the key (not base64-decoded), the received string as the message
    const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(Buffer.from(signHeader, "utf8")).digest("hex");
    if (hash !== expected) return "hash-header is not the HMAC of sign-header";
    return { system: h.systemid, h };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://hub").pathname;
    const body = await readBody(req);
    if (req.method !== "POST") return answer(res, failure("POST only"), 405);
    const auth = authenticate(req);
    if (typeof auth === "string") {
      hub.refused.push(`${path}: ${auth}`);
      return answer(res, failure(auth, "401"), 401);
    }
    const { system, h } = auth;
    hub.calls.push(`${path} ${system}`);
    const fault = faults.get(`${path} ${system}`)?.shift() ?? faults.get(path)?.shift();
    if (fault === "timeout") {
      await new Promise((r) => setTimeout(r, opts.timeoutMs ?? 3000));
      if (!res.destroyed) answer(res, failure("too late"));
      return;
    }
    if (fault === "non-json") {
      res.writeHead(200, { "content-type": "text/html" });
      return void res.end("<html><body>Service Unavailable</body></html>");
    }
    if (fault === "http-500") return answer(res, failure("internal error", "500"), 500);
    if (fault === "fail") return answer(res, failure("Hệ thống đang bận"));

    switch (path) {
      case "/sendEdoc": {
        if (h["Content-Type"] !== "application/octet-stream") return answer(res, failure("sendEdoc takes application/octet-stream"));
        if (!body.subarray(-2).equals(Buffer.from("\r\n"))) return answer(res, failure("the body must be the edXML followed by CRLF"));
        const edxml = body.subarray(0, -2);
        if (h["hash-file"] !== sdkHex(edxml)) return answer(res, failure("hash-file does not match the edXML"));
        if (h.servicetype !== "eDoc" || (h.messagetype !== "edoc" && h.messagetype !== "status")) return answer(res, failure("Invalid messageType: value in (edoc,status)"));
        let to: unknown;
        try {
          to = JSON.parse(h.to ?? "null");
        } catch {
          to = null;
        }
        if (!Array.isArray(to) || !to.length || !to.every((t) => typeof t === "string")) return answer(res, failure("to must be a JSON list of organ ids"));
        const unknown = (to as string[]).filter((t) => !routes[t]);
        if (unknown.length) return answer(res, failure(`unknown recipient ${unknown.join(", ")}`));
        let last: HubItem | undefined;
        for (const t of to as string[]) last = hub.deliver({ system: routes[t], messageType: h.messagetype, from: h.from, to: t, bytes: Buffer.from(edxml) });
        return answer(res, ok({ DocId: last!.docId }));
      }
      case "/getReceivedEdocList": {
        const items = hub.items.filter((i) => i.system === system && i.messageType === h.messagetype && !i.acked);
        return answer(res, ok({ data: items.map((i) => ({ docId: i.docId, serviceType: "eDoc", messageType: i.messageType, from: i.from, to: i.to, status: "initial", status_desc: "" })) }));
      }
      case "/getEdoc": {
        const item = hub.items.find((i) => i.docId === h.docId && i.system === system);
        return item ? answer(res, ok({ data: item.bytes.toString("base64") })) : answer(res, failure(`no document ${h.docId}`));
      }
      case "/updateStatus": {
        const item = hub.items.find((i) => i.docId === (h.docid ?? h.docId) && i.system === system);
        if (!item) return answer(res, failure(`no document ${h.docid}`));
        if (h.status !== "done" && h.status !== "fail") return answer(res, failure("status: done or fail"));
        item.acked = h.status;
        return answer(res, ok());
      }
      case "/getAgenciesList":
        return answer(res, ok({ data: hub.directory.agencies }));
      case "/getSynchronizeUnit":
        return answer(res, ok({ data: hub.directory.units }));
      default:
        return answer(res, failure(`no service ${path}`), 404);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) answer(res, failure((err as Error).message), 500);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...hub,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  } as TestHub;
}
