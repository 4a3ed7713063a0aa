// The HTTP application: the API for people's software under /api/v1, the inbound door for other
// nodes (/edxml), the registry snapshot, and health and metrics.
import express from "express";
import { apiRoutes } from "./api.ts";
import type { Node } from "./context.ts";
import { errorHandler } from "./errors.ts";
import { inboundRoutes } from "./inbound.ts";
import { openApiDocument } from "./openapi.ts";
import { opsRoutes } from "./ops.ts";
import { registryRoutes } from "./registry.ts";

export function createApp(node: Node): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use((req, res, next) => {
    const end = node.metrics.httpDuration.startTimer({ method: req.method });
    res.on("finish", () => end({ route: req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched", status: String(res.statusCode) }));
    next();
  });
  app.use(opsRoutes(node));
  app.use(inboundRoutes(node));
  app.use(registryRoutes(node));
  app.use("/api/v1", apiRoutes(node));
  app.get("/api/docs", (_req, res) => void res.json(openApiDocument(node)));
  app.use((req, res) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}` });
  });
  app.use(errorHandler(node.log));
  return app;
}
