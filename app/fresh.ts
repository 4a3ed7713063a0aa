// Packets this process has just stored and queued, kept in memory for its delivery worker, which
// sends them a moment later: it then reads neither the document nor the packet back. Bounded (the
// oldest go first); a miss (another process's worker, a retry much later, a restart) reads the
// database as before. The packet is matched by its hash, so what is sent is what was stored.
import type { DocumentRow } from "../storage/index.ts";
import type { AppContext } from "./context.ts";

const MAX_BYTES = 32 << 20;

interface Fresh {
  row: DocumentRow;
  packet: Buffer;
}

const kept = new WeakMap<AppContext, { byDocument: Map<string, Fresh>; bytes: number }>();

/** Keeps a document just committed with its packet (a small one, already in memory). */
export function keepFresh(ctx: AppContext, row: DocumentRow, packet: Buffer): void {
  let k = kept.get(ctx);
  if (!k) kept.set(ctx, (k = { byDocument: new Map(), bytes: 0 }));
  k.byDocument.set(row.id, { row, packet });
  k.bytes += packet.length;
  // a Map iterates in insertion order: the oldest first
  for (const [id, f] of k.byDocument) {
    if (k.bytes <= MAX_BYTES) break;
    k.byDocument.delete(id);
    k.bytes -= f.packet.length;
  }
}

/** The kept document and packet of a delivery, when this process stored them a moment ago. */
export function freshFor(ctx: AppContext, document: string, packetSha256: string): Fresh | undefined {
  const f = kept.get(ctx)?.byDocument.get(document);
  return f && f.row.packetSha256 === packetSha256 ? f : undefined;
}
