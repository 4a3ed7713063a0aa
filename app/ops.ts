// The node's health, for operations: whether the database answers, whether the node is shutting
// down, and the delivery gauges read from the database (so that every node sharing a database
// reports the same queue).
import { databaseAnswers as answers, queueDepth } from "../storage/index.ts";
import type { AppContext } from "./context.ts";

const draining = new WeakSet<AppContext>();

/** From now on the node says it is not ready, so that a load balancer stops sending it requests. */
export function markDraining(ctx: AppContext): void {
  draining.add(ctx);
}
export const isDraining = (ctx: AppContext) => draining.has(ctx);

const READY_TIMEOUT_MS = 2000;

/** Resolves when the database answers `select 1`, rejects when it fails or takes over 2 s. */
export const databaseAnswers = (ctx: AppContext, timeoutMs = READY_TIMEOUT_MS): Promise<void> => answers(ctx.storage.db, timeoutMs);

/** Reads the delivery queue from the database into the gauges. */
export async function refreshQueueMetrics(ctx: AppContext): Promise<void> {
  const depth = await queueDepth(ctx.storage.reader);
  for (const [state, n] of Object.entries(depth)) ctx.metrics.deliveries.set({ state }, n);
  // waiting to be sent: queued, or being sent right now (not yet delivered, not failed)
  ctx.metrics.queueDepth.set(depth.queued + depth.sending);
}
