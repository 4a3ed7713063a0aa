// The queue rows of the national axle bridge (app/vdxp.ts): a delivery the hub accepted is
// `relayed` until the recipient's 01 comes back through the axle.
import type { Db } from "./db.ts";

/** The 01 of `organId` arrived: its relayed edoc delivery of `document` is delivered. */
export async function markRelayedDelivered(db: Db, document: string, organId: string): Promise<number> {
  return db("deliveries").where({ document, organ_id: organId, kind: "edoc", state: "relayed" }).update({ state: "delivered", updated_at: new Date() });
}

/** Whether this status packet is already queued (or sent) to `organId` for `document`. */
export async function findStatusDelivery(db: Db, document: string, organId: string, packetSha256: string): Promise<boolean> {
  return !!(await db("deliveries").where({ document, organ_id: organId, kind: "status", packet_sha256: packetSha256 }).first("id"));
}
