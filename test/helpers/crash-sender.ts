// The sender node of the crash test, as a process of its own (test/crash.test.ts kills it with
// SIGKILL in the middle of sending, then starts it again):
//
//   node --import tsx test/helpers/crash-sender.ts
//
// Its state comes from the contract's variables (EDOC_DATA_DIR, DATABASE_URL, EDOC_DB_SCHEMA,
// EDOC_DELIVERY_*), set up beforehand by the test (local agency, trust anchor, registry). It
//   - with CRASH_QUEUE=n, first sends n documents from CRASH_FROM to CRASH_TO (queued only),
//     CRASH_SEND_CONCURRENCY at once (default 1: one after the other), each with an attachment of
//     CRASH_ATTACHMENT_BYTES random bytes (default none), and prints {"event":"sent","code":…}
//     as each send is answered (its transaction committed);
//   - runs the delivery worker (CRASH_CONCURRENCY sends at once, default 8);
//   - prints one JSON line per event on stdout: {"event":"queued"}, {"event":"progress",…};
//   - with CRASH_EXIT_WHEN_DONE=1, stops and exits 0 once nothing is queued or being sent.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { loadConfig, openContext, sendDocument, startDeliveryWorker, tokenCaller, type UploadedFile } from "../../app/index.ts";
import { queueDepth } from "../../storage/index.ts";

const env = process.env;
const say = (event: string, more: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ event, ...more }) + "\n");

async function main() {
  const from = env.CRASH_FROM!;
  const to = env.CRASH_TO!;
  const node = await openContext(loadConfig(env), pino({ level: env.EDOC_TEST_LOG || "silent" }, pino.destination(2)));
  const queue = Number(env.CRASH_QUEUE ?? 0);
  const files: UploadedFile[] = [];
  if (Number(env.CRASH_ATTACHMENT_BYTES || 0) > 0) {
    const path = join(node.config.dataDir, "crash-attachment.pdf");
    writeFileSync(path, randomBytes(Number(env.CRASH_ATTACHMENT_BYTES)));
    files.push({ path, name: "phụ lục.pdf", contentType: "application/pdf" });
  }
  let next = 1;
  const clerk = async () => {
    for (let i = next++; i <= queue; i = next++) {
      const code = `${i}/CV-VPCP`;
      await sendDocument(node, tokenCaller({ id: 0, organId: from, role: "clerk", name: "Văn thư" }), {
        To: [to],
        Code: code,
        Subject: `Công văn số ${i} về việc kiểm tra khả năng phục hồi`,
        DocumentType: { Type: 1, TypeName: "Công văn" },
      }, files);
      say("sent", { code });
    }
  };
  await Promise.all(Array.from({ length: Number(env.CRASH_SEND_CONCURRENCY || 1) }, clerk));
  if (queue) say("queued", { n: queue });
  const worker = startDeliveryWorker(node, { concurrency: Number(env.CRASH_CONCURRENCY || 8) });
  say("started", { pid: process.pid });
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const depth = await queueDepth(node.storage.db);
    say("progress", depth);
    if (env.CRASH_EXIT_WHEN_DONE === "1" && depth.queued + depth.sending === 0) {
      await worker.stop();
      await node.close();
      say("done", depth);
      process.exit(0);
    }
  }
}

main().catch((err) => {
  process.stderr.write(`crash-sender: ${(err as Error).stack ?? err}\n`);
  process.exit(3);
});
