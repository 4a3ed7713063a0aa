// The HTTP application: the API for people's software under /api/v1, its description, the inbound
// door for other nodes (/edxml), the registry snapshot, health and metrics, and the web pages.
import express from "express";
import { AppError, type AppContext } from "../app/index.ts";
import { apiRoutes } from "./api.ts";
import { errorHandler } from "./errors.ts";
import { inboundRoutes } from "./inbound.ts";
import { docsRoutes } from "./openapi.ts";
import { opsRoutes } from "./ops.ts";
import { registryRoutes } from "./registry.ts";
import { webRoutes } from "./web.ts";

export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // the client's address (req.ip) is the connection's unless EDOC_TRUST_PROXY names the proxies
  app.set("trust proxy", ctx.config.trustProxy);
  app.use((req, res, next) => {
    const end = ctx.metrics.httpDuration.startTimer({ method: req.method });
    res.on("finish", () => end({ route: req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched", status: String(res.statusCode) }));
    next();
  });
  app.use(opsRoutes(ctx));
  app.use(inboundRoutes(ctx));
  app.use(registryRoutes(ctx));
  app.use("/api/v1", apiRoutes(ctx));
  app.use(docsRoutes(ctx));
  app.use(webRoutes(ctx));
  // through the error handler, so that it is answered in the client's language too
  app.use((req, _res, next) => next(new AppError("not-found", `no such endpoint: ${req.method} ${req.path}`)));
  app.use(errorHandler(ctx.log));
  return app;
}
