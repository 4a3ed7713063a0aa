// The machine's own figure beside "CPU per document, flat as processes are added" (bench/service.ts):
// one process of a CPU-bound control, the crypto of one document (sign a packet with a 50 KB
// attachment, verify it), for the milliseconds given; prints how many it did and the CPU they took.
// Run in 2, 4 or 8 processes at once it shows what this machine alone adds per operation when
// that many processes share its cores.
import { randomBytes } from "node:crypto";
import { createDevCa, fingerprint, issueDevAgencyCertificate, signEdoc, verifyPacket } from "../signing/index.ts";
import { edoc } from "./core.ts";

const SENDER = "000.00.00.G22";
const ca = createDevCa("Bench");
const id = issueDevAgencyCertificate(ca, SENDER, "Văn phòng Chính phủ");
const trust = { anchors: [ca.certificate], crls: [], registry: new Map([[SENDER, { organId: SENDER, certificateFingerprints: [fingerprint(id.certificate)] }]]) };
const attachment = randomBytes(50 * 1024);
const once = async () => {
  const { bytes } = await signEdoc(edoc("control.pdf"), [{ bytes: attachment }], id);
  if (!(await verifyPacket({ bytes }, trust)).report.valid) throw new Error("the control packet does not verify");
};
for (let i = 0; i < 30; i++) await once();
const until = Date.now() + Number(process.argv[2] ?? 8000);
const cpu = process.cpuUsage();
let n = 0;
for (; Date.now() < until; n++) await once();
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ n, cpuMs: (used.user + used.system) / 1000 }) + "\n");
