// A real S3-compatible server for tests: s3rver on 127.0.0.1 in a child process (so that a test
// can SIGKILL it mid-upload and start it again on the same port and directory), one bucket.
//
//   const s3 = await startS3(scratchDir);
//   openStorage({ …, blobStore: s3.store("node-a") });
//   await s3.kill(); await s3.restart();
//   await s3.stop();
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import type { BlobStoreSpec } from "../../storage/index.ts";

const BUCKET = "edoc-test";

const SERVER = `
const S3rver = require(process.argv[1]);
new S3rver({ address: "127.0.0.1", port: Number(process.argv[3]), directory: process.argv[2], silent: true, configureBuckets: [{ name: "${BUCKET}" }] })
  .run()
  .then((a) => console.log("listening " + a.port), (e) => { console.error(e); process.exit(1); });
`;

export interface TestS3 {
  endpoint: string;
  /** The store spec of a key prefix of the bucket, as EDOC_BLOB_STORE=s3://edoc-test/PREFIX with the AWS variables gives it. */
  store(prefix: string): BlobStoreSpec;
  /** The same as the environment of a node process (EDOC_BLOB_STORE and the AWS variables). */
  env(prefix: string): Record<string, string>;
  /** SIGKILL: connections in progress break. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (objects kept). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function run(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["-e", SERVER, createRequire(import.meta.url).resolve("s3rver"), dir, String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}): ${err}`)));
    child.stdout!.on("data", (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve({ child, port: Number(m[1]) });
    });
  });
}

export async function startS3(dir: string): Promise<TestS3> {
  let { child, port } = await run(dir, 0);
  const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once("exit", () => r())));
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: (prefix) => ({
      EDOC_BLOB_STORE: `s3://${BUCKET}/${prefix}`,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      EDOC_S3_FORCE_PATH_STYLE: "1",
    }),
    store: (prefix) => ({ kind: "s3", bucket: BUCKET, prefix, endpoint, region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER", forcePathStyle: true }),
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    async restart() {
      ({ child } = await run(dir, port));
    },
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}
