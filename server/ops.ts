// Operations endpoints: liveness (/healthz), readiness (/readyz: the database answers, and the
// node is not shutting down) and Prometheus metrics (/metrics), with the delivery gauges read
// from the database at each scrape so that every node sharing a database reports the same queue.
import { Router } from "express";
import { queueDepth } from "../storage/index.ts";
import type { Node } from "./context.ts";

const draining = new WeakSet<Node>();

/** From now on /readyz answers 503, so that a load balancer stops sending new requests. */
export function markDraining(node: Node): void {
  draining.add(node);
}

const READY_TIMEOUT_MS = 2000;

/** Resolves when the database answers `select 1`, rejects when it fails or takes over 2 s. */
export async function databaseAnswers(node: Node, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      node.storage.db.raw("select 1"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the database did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the delivery queue from the database into the gauges. */
export async function refreshQueueMetrics(node: Node): Promise<void> {
  const depth = await queueDepth(node.storage.db);
  for (const [state, n] of Object.entries(depth)) node.metrics.deliveries.set({ state }, n);
  // waiting to be sent: queued, or being sent right now (not yet delivered, not failed)
  node.metrics.queueDepth.set(depth.queued + depth.sending);
}

export function opsRoutes(node: Node): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    res.set("Cache-Control", "no-store");
    if (draining.has(node)) {
      res.status(503).json({ status: "shutting down" });
      return;
    }
    try {
      await databaseAnswers(node);
      res.json({ status: "ready", database: node.storage.dialect });
    } catch (err) {
      node.log.warn({ err: (err as Error).message }, "readiness check: the database does not answer");
      res.status(503).json({ status: "unavailable", error: "the database does not answer" });
    }
  });
  router.get("/metrics", async (_req, res, next) => {
    try {
      try {
        await refreshQueueMetrics(node);
      } catch (err) {
        // the other metrics are still worth scraping; the gauges keep their last values
        node.log.warn({ err: (err as Error).message }, "metrics: cannot read the delivery queue");
      }
      res.set("Content-Type", node.metrics.registry.contentType).set("Cache-Control", "no-store");
      res.send(await node.metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  return router;
}
