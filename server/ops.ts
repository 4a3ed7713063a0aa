// Operations endpoints: liveness (/healthz), readiness (/readyz: the database answers, and the
// node is not shutting down) and Prometheus metrics (/metrics, for loopback or the metrics token).
import { Router } from "express";
import { assertMetricsReader, databaseAnswers, isDraining, refreshQueueMetrics, type AppContext } from "../app/index.ts";

export function opsRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    res.set("Cache-Control", "no-store");
    if (isDraining(ctx)) {
      res.status(503).json({ status: "shutting down" });
      return;
    }
    try {
      await databaseAnswers(ctx);
      res.json({ status: "ready", database: ctx.storage.dialect });
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, "readiness check: the database does not answer");
      res.status(503).json({ status: "unavailable", error: "the database does not answer" });
    }
  });
  router.get("/metrics", async (req, res) => {
    assertMetricsReader(ctx.config, req.get("authorization"), req.ip);
    try {
      await refreshQueueMetrics(ctx);
    } catch (err) {
      // the other metrics are still worth scraping; the gauges keep their last values
      ctx.log.warn({ err: (err as Error).message }, "metrics: cannot read the delivery queue");
    }
    res.set("Content-Type", ctx.metrics.registry.contentType).set("Cache-Control", "no-store");
    res.send(await ctx.metrics.registry.metrics());
  });
  return router;
}
