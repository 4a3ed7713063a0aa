// The hand-off between a send and this process's delivery worker. Deliveries queued while the
// worker has room are claimed for it in the transaction that queues them (queueAndSend), and the
// packets just stored are kept in memory for it: it sends them the moment they commit and reads
// neither the document nor the packet back. The packets are bounded (the oldest go first); a miss
// (another process's worker, a retry much later, a restart) reads the database as before. The
// packet is matched by its hash, so what is sent is what was stored.
import { isCommitUnknown, type Delivery, type DeliveryClaim, type DocumentRow, type NewDelivery } from "../storage/index.ts";
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

/** Room held in this process's running worker for deliveries a transaction is queuing. */
export interface HeldRoom {
  claim: DeliveryClaim;
  /**
   * After that transaction: starts the rows it claimed and gives the room back. When it failed
   * at its COMMIT (the connection lost: isCommitUnknown), `unknown` are the rows it was queuing:
   * they may have been committed, claimed for this worker, which then looks for them rather than
   * leave them to wait for the lease.
   */
  settle(claimed: readonly Delivery[], unknown?: readonly NewDelivery[]): void;
}

interface Room {
  /** Room for `n` more sends, or undefined (full, stopping). */
  hold(n: number): HeldRoom | undefined;
}

/** The running worker of each context: deliveries queued through queueAndSend go straight to it. */
const workers = new WeakMap<AppContext, Room>();

/** A worker offers its room to the sends of its context; the function withdraws the offer. */
export function offerRoom(ctx: AppContext, room: Room): () => void {
  workers.set(ctx, room);
  return () => {
    if (workers.get(ctx) === room) workers.delete(ctx);
  };
}

/**
 * Runs `write`, the transaction that queues `rows` (enqueueDeliveries with the claim it is given).
 * When this process's worker has room, they are claimed for it in that insert and sent the moment
 * it commits: no claim transaction, no poll, and on PostgreSQL no other process woken. Otherwise
 * they are queued for whichever worker claims them first. Nothing changes for durability: a
 * claimed row is in the queue like any other, and a worker that dies leaves it to be claimed again
 * when its lease runs out.
 */
export async function queueAndSend<T>(ctx: AppContext, rows: readonly NewDelivery[], write: (claim: DeliveryClaim | undefined) => Promise<{ value: T; claimed: Delivery[] }>): Promise<T> {
  const held = workers.get(ctx)?.hold(rows.length);
  let out: { value: T; claimed: Delivery[] };
  try {
    out = await write(held?.claim);
  } catch (err) {
    held?.settle([], isCommitUnknown(err) ? rows : undefined);
    throw err;
  }
  held?.settle(out.claimed);
  if (!held) ctx.storage.queued();
  return out.value;
}
