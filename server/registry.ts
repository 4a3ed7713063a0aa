// GET /registry/snapshot: the node's registry as one signed XML document with an expiry, in the
// manner of X-Road's global configuration (app/registry.ts signs it and syncs from other nodes).
import { Router } from "express";
import { registrySnapshot, type AppContext } from "../app/index.ts";

export function registryRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/registry/snapshot", async (_req, res) => {
    const s = await registrySnapshot(ctx);
    res
      .status(200)
      .set("Content-Type", "application/xml; charset=utf-8")
      // short: a cache must not hold a changed registry back for the snapshot's whole validity
      .set("Cache-Control", `public, max-age=${Math.floor(s.reuseMs / 1000)}`)
      .set("Expires", s.expiresAt.toUTCString())
      .set("X-Edoc-Snapshot-Signer", s.signer)
      .send(s.bytes);
  });
  return router;
}
