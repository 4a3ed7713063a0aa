import { randomBytes, sign, createHash } from "node:crypto";
import { signEdoc, createDevCa, issueDevAgencyCertificate } from "../signing/index.ts";
import { edoc } from "./core.ts";
const ca = createDevCa("Bench");
const id = issueDevAgencyCertificate(ca, "000.00.00.G22", "Văn phòng Chính phủ");
const small = randomBytes(100 * 1024);
async function rate(name: string, fn: () => unknown, seconds = 4) {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0; const start = performance.now(); const cpu = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) { await fn(); n++; }
  const u = process.cpuUsage(cpu); const per = (u.user + u.system) / n;
  console.log(name.padEnd(30), (1e6 / per).toFixed(0), "/s", per.toFixed(1), "µs");
}
const data = randomBytes(600);
await rate("rsa sign 600 B", () => sign("sha256", data, id.privateKey));
const b64 = small.toString("base64");
await rate("sha256 of 137 KB", () => createHash("sha256").update(b64).digest());
await rate("base64 of 100 KB", () => small.toString("base64"));
await rate("signEdoc", () => signEdoc(edoc("small.pdf"), [{ bytes: small }], id), Number(process.env.S ?? 4));
