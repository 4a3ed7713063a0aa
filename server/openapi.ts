// The OpenAPI 3.1 description of the node's HTTP interface, generated from the route declarations
// (server/api.ts API_ROUTES) and the use cases' zod schemas (app/schemas.ts): nothing here repeats
// a field, a code or a rule. Served at /api/docs/openapi.json; /api/docs answers a browser with a
// browsable reference (Swagger UI, served from this node's node_modules: no CDN) and anything else
// with the JSON, as before.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import express, { Router } from "express";
import { z } from "zod";
import { DocumentMetadata, ErrorBody, VerificationReport, type AppContext } from "../app/index.ts";
import { API_ROUTES, type Answer, type RouteSpec } from "./api.ts";

type Json = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12, its named parts moved to `components` (shared by the whole document). */
function jsonSchema(schema: z.ZodType, components: Json, io: "input" | "output"): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Json;
  const text = JSON.stringify(out).replaceAll('"#/$defs/', '"#/components/schemas/');
  const { $defs, $schema: _, ...body } = JSON.parse(text) as Json & { $defs?: Json };
  void _;
  Object.assign(components, $defs ?? {});
  return body;
}

const jsonContent = (schema: Json) => ({ "application/json": { schema } });

function answers(spec: Record<string, Answer>, components: Json, authenticated: boolean): Json {
  const out: Json = {};
  const all: Record<string, Answer> = { ...spec };
  if (authenticated) {
    all["401"] ??= { description: "No token, a malformed Authorization header, or an unknown, revoked or expired token", schema: ErrorBody };
    all["403"] ??= { description: "The token's role may not do this", schema: ErrorBody };
  }
  // every operation needs the database (server/errors.ts: a database busy or out of reach)
  all["503"] ??= {
    description: "The database is busy or cannot be reached for now (or another service the operation needs); nothing was recorded: try again after Retry-After seconds",
    headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait before trying again" } },
    schema: ErrorBody,
  };
  for (const [status, a] of Object.entries(all).sort(([x], [y]) => x.localeCompare(y))) {
    out[status] = {
      description: a.description,
      ...(a.headers ? { headers: a.headers } : {}),
      ...(a.schema ? { content: jsonContent(jsonSchema(a.schema, components, "output")) } : a.content ? { content: a.content } : {}),
    };
  }
  return out;
}

/** `?a=…&b=…` parameters from an object schema's properties. */
function queryParameters(schema: z.ZodType, components: Json): Json[] {
  const s = jsonSchema(schema, components, "input") as { properties?: Record<string, Json>; required?: string[]; $ref?: string };
  const target = s.$ref ? (components[s.$ref.split("/").pop()!] as typeof s) : s;
  return Object.entries(target.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema as { description?: string };
    return { name, in: "query", required: target.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest };
  });
}

function operation(route: RouteSpec, components: Json): Json {
  const parameters: Json[] = [
    ...Object.entries(route.params ?? {}).map(([name, p]) => ({ name, in: "path", required: true, description: p.description, schema: p.schema })),
    ...Object.entries(route.headers ?? {}).map(([name, p]) => ({ name, in: "header", required: false, description: p.description, schema: p.schema })),
    ...(route.query ? queryParameters(route.query, components) : []),
  ];
  const requestBody = route.json
    ? { required: !route.jsonOptional, content: jsonContent(jsonSchema(route.json, components, "input")) }
    : route.body;
  const roles = route.roles ? ` Roles: ${route.roles.join(", ")}.` : " Every role.";
  return {
    tags: [route.tag],
    summary: route.summary,
    description: `${route.description ?? ""}${roles}`.trim(),
    security: [{ bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: answers(route.responses, components, true),
  };
}

/** `/documents/:id` → `/documents/{id}` */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/** The description, with this node's public URL as the server. */
function openApiDocument(ctx: Pick<AppContext, "config">): Json {
  const components: Json = {};
  jsonSchema(DocumentMetadata, components, "input"); // referenced from the multipart body
  const paths: Record<string, Json> = {};
  for (const route of API_ROUTES) {
    const p = `/api/v1${openApiPath(route.path)}`;
    paths[p] = { ...(paths[p] ?? {}), [route.method]: operation(route, components) };
  }
  const report = jsonSchema(VerificationReport, components, "output");
  paths["/edxml"] = {
    post: {
      tags: ["between nodes"],
      summary: "The inbound door for other agencies' nodes (no token: trust comes from the signature, the trust anchors and the registry)",
      parameters: [
        {
          name: "X-Edoc-Recipient",
          in: "header",
          required: false,
          schema: { type: "string", pattern: "^[0-9A-Za-z.]{1,35}$" },
          description: "Which of the document's recipients this delivery is for (set by the sending node's worker)",
        },
      ],
      requestBody: { required: true, content: { "application/xml": { schema: { type: "string", description: "One edXML packet: an edoc or a status packet" } } } },
      responses: {
        "202": {
          description:
            "An edoc for a local agency: the body is the signed status packet 01 (Đã đến), the receipt; the same packet again (same sender and DocumentId) gets the same receipt and creates nothing. " +
            "A status packet: {accepted: true} (duplicate: true when it was already held).",
          content: {
            "application/xml": { schema: { type: "string" } },
            "application/json": { schema: { type: "object", properties: { accepted: { type: "boolean" }, duplicate: { type: "boolean" } } } },
          },
        },
        ...answers(
          {
            "400": { description: "Not XML, not edXML, or not a valid edXML document", schema: ErrorBody },
            "404": { description: "Not addressed to any agency of this node, or a status about a document it does not hold", schema: ErrorBody },
            "409": { description: "A status that cannot follow the statuses already exchanged", schema: ErrorBody },
            "413": { description: "Too large", schema: ErrorBody },
          },
          components,
          false,
        ),
        "422": { description: "The packet fails verification: the report; nothing is stored but the rejection in the log", content: jsonContent(report) },
      },
    },
  };
  paths["/registry/snapshot"] = {
    get: {
      tags: ["between nodes"],
      summary: "The node's registry as one signed XML document with an expiry time",
      responses: { "200": { description: "The signed snapshot", content: { "application/xml": { schema: { type: "string" } } } } },
    },
  };
  paths["/healthz"] = { get: { tags: ["operations"], summary: "Liveness", responses: { "200": { description: "The process is up" } } } };
  paths["/readyz"] = {
    get: { tags: ["operations"], summary: "Readiness: the database is reachable", responses: { "200": { description: "Ready" }, "503": { description: "The database is not reachable" } } },
  };
  paths["/metrics"] = {
    get: {
      tags: ["operations"],
      summary: "Prometheus metrics: for loopback clients, or with EDOC_METRICS_TOKEN set for whoever sends it as a bearer token",
      responses: {
        "200": { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } },
        "401": { description: "EDOC_METRICS_TOKEN is set and the request does not carry it" },
        "403": { description: "No metrics token is set and the client is not on loopback" },
      },
    },
  };
  paths["/api/docs"] = {
    get: {
      tags: ["operations"],
      summary: "This description: a browsable reference for a browser (Accept: text/html), the OpenAPI 3.1 JSON otherwise",
      responses: { "200": { description: "The description", content: { "application/json": { schema: { type: "object" } }, "text/html": { schema: { type: "string" } } } } },
    },
  };
  paths["/api/docs/openapi.json"] = {
    get: { tags: ["operations"], summary: "This description (OpenAPI 3.1, JSON)", responses: { "200": { description: "The description", content: jsonContent({ type: "object" }) } } },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "edoc — electronic document exchange between state agencies",
      version: "1.0.0",
      description:
        "Signed edXML packets (QCVN 102:2016/BTTTT) between Vietnamese state agencies. /api/v1 is for people's software and needs a bearer token " +
        "(`bin/edoc token create`); roles: clerk (send, receive, set statuses), archivist (read and export, change nothing), admin (registry, tokens, audit). " +
        "A user only ever sees its own agency's documents. /edxml is the door for other nodes: trust comes from the signature.",
    },
    servers: [{ url: ctx.config.publicUrl }],
    tags: [
      { name: "documents", description: "Sending, searching and reading documents" },
      { name: "verification" },
      { name: "registry", description: "The agencies this node knows" },
      { name: "administration", description: "API tokens and the audit log" },
      { name: "between nodes" },
      { name: "operations" },
    ],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token from `bin/edoc token create`" } },
      schemas: components,
    },
    paths,
  };
}

const SWAGGER_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const REFERENCE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>edoc API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/reference.js"></script>
</body>
</html>
`;
const REFERENCE_SCRIPT = `window.ui = SwaggerUIBundle({ url: "/api/docs/openapi.json", dom_id: "#reference", deepLinking: true });\n`;

/** /api/docs (reference page or JSON), /api/docs/openapi.json and the page's own assets. */
export function docsRoutes(ctx: AppContext): Router {
  const router = Router();
  let doc: Json | null = null;
  const description = () => (doc ??= openApiDocument(ctx));
  router.get("/api/docs", (req, res) => {
    if (req.accepts(["application/json", "text/html"]) === "text/html") {
      res.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'").type("html").send(REFERENCE_PAGE);
    } else {
      res.json(description());
    }
  });
  router.get("/api/docs/openapi.json", (_req, res) => void res.json(description()));
  router.get("/api/docs/reference.js", (_req, res) => void res.type("application/javascript").send(REFERENCE_SCRIPT));
  router.use("/api/docs/assets", express.static(SWAGGER_DIR, { index: false, fallthrough: false, maxAge: "1d" }));
  return router;
}
