// Prometheus metrics (prom-client), one registry per node so that several nodes in one process
// (tests, the demo) keep their own counts; and who may read them. They say how many documents
// each local agency sent and received, so they are not for everyone: with EDOC_METRICS_TOKEN set,
// for whoever presents it; otherwise for clients on the node's own machine (loopback) only.
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Config } from "./config.ts";
import { AppError, forbidden } from "./errors.ts";

export interface Metrics {
  registry: Registry;
  documentsSent: Counter<"organ_id">;
  documentsReceived: Counter<"organ_id">;
  verificationFailures: Counter<"sub_indication">;
  deliveries: Gauge<"state">;
  queueDepth: Gauge;
  httpDuration: Histogram<"method" | "route" | "status">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    documentsSent: new Counter({ name: "edoc_documents_sent_total", help: "Documents sent, by local agency", labelNames: ["organ_id"], registers: [registry] }),
    documentsReceived: new Counter({ name: "edoc_documents_received_total", help: "Documents received, by local agency", labelNames: ["organ_id"], registers: [registry] }),
    verificationFailures: new Counter({
      name: "edoc_verification_failures_total",
      help: "Inbound packets refused, by sub-indication",
      labelNames: ["sub_indication"],
      registers: [registry],
    }),
    deliveries: new Gauge({ name: "edoc_deliveries", help: "Deliveries by state", labelNames: ["state"], registers: [registry] }),
    queueDepth: new Gauge({ name: "edoc_delivery_queue_depth", help: "Deliveries waiting to be sent", registers: [registry] }),
    httpDuration: new Histogram({
      name: "edoc_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

const isLoopback = (address: string | undefined) => !!address && /^(127\.|::1$|::ffff:127\.)/.test(address);
const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Refuses a scrape that may not read the metrics: `authorization` is the request's header,
 * `client` the client's address (behind a trusted proxy, the one it names; EDOC_TRUST_PROXY).
 */
export function assertMetricsReader(config: Pick<Config, "metricsToken">, authorization: string | undefined, client: string | undefined): void {
  if (config.metricsToken) {
    const given = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (!given || !timingSafeEqual(digest(given), digest(config.metricsToken))) {
      throw new AppError("unauthenticated", "/metrics needs Authorization: Bearer with the node's metrics token (EDOC_METRICS_TOKEN)");
    }
    return;
  }
  if (!isLoopback(client)) {
    throw forbidden("/metrics answers only on this node's own machine (loopback); to scrape it from elsewhere, set EDOC_METRICS_TOKEN and send it as a bearer token");
  }
}
