// The layers of README "Design", as rules: envelopes/ ← signing/ ← storage/ ← app/ ← server/, bin/.
// A folder may import the folders below it, never one above it; server/ reaches everything through
// app/ (the transports are thin); test/ and bench/ may import anything, and nothing imports them. `npm run check:structure` runs this (and knip).
const LAYERS = ["envelopes", "signing", "storage", "app", "server", "bin"];
const folder = (names) => `^(${names.join("|")})/`;

/** Each folder, with the folders it must not import. */
const ABOVE = {
  envelopes: ["signing", "storage", "app", "server", "bin"],
  signing: ["storage", "app", "server", "bin"],
  storage: ["app", "server", "bin"],
  app: ["server", "bin"],
  // the HTTP transport calls use cases only: no storage, no signing, no edXML of its own
  server: ["envelopes", "signing", "storage", "bin"],
};

module.exports = {
  forbidden: [
    ...Object.entries(ABOVE).map(([from, above]) => ({
      name: `${from}-imports-only-below`,
      comment: `${from}/ must not import ${above.join(", ")}: dependencies point down the layers (README "Design")`,
      severity: "error",
      from: { path: `^${from}/` },
      to: { path: folder(above) },
    })),
    {
      name: "bin-never-imports-server",
      comment: "bin/ reaches the use cases through app/ (and the libraries below it), never through server/",
      severity: "error",
      from: { path: "^bin/" },
      to: { path: "^server/" },
    },
    {
      name: "nothing-imports-tests",
      comment: "test/, bench/ and fixtures/ sit above every layer: the product never imports them",
      severity: "error",
      from: { path: folder(LAYERS) },
      to: { path: "^(test|bench|fixtures)/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that resolves to no file or package",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "no-circular-in-a-folder",
      comment: "a cycle among a folder's modules makes them one module in several files",
      severity: "warn",
      from: { path: "^([^/]+)/" },
      to: { circular: true, path: "^$1/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // the swc parser of dependency-cruiser 17 reads no JSX: the pages (.tsx) are checked by
    // .check-tsx-layers.mjs instead (npm run check:structure runs both)
    exclude: { path: ["^(node_modules|dist|data|bench/tmp)/", "\\.tsx$"] },
    // TypeScript 7 has no JavaScript compiler API: without the swc parser no module is seen at all
    parser: "swc",
    // type-only imports are dependencies too
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js", ".json"] },
  },
};
