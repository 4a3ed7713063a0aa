// Prometheus metrics (prom-client), one registry per node so that several nodes in one process
// (tests, the demo) keep their own counts.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

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
