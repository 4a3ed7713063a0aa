// Local agencies (the agencies this node hosts) with their signing identities; the private keys
// are encrypted at rest with the node's master key (keys.ts).
import { createPrivateKey, X509Certificate } from "node:crypto";
import { parseCertificates, type Identity } from "../signing/index.ts";
import type { Db } from "./db.ts";
import { open, seal } from "./keys.ts";

export interface LocalAgency {
  organId: string;
  name: string;
  certificate: X509Certificate;
  chain: X509Certificate[];
  development: boolean;
}

export async function addLocalAgency(
  db: Db,
  key: Buffer,
  a: { organId: string; name: string; identity: Identity; development?: boolean },
): Promise<void> {
  const der = a.identity.privateKey.export({ type: "pkcs8", format: "der" });
  await db("local_agencies").insert({
    organ_id: a.organId,
    name: a.name,
    certificate_pem: a.identity.certificate.toString(),
    chain_pem: a.identity.chain.map((c) => c.toString()).join(""),
    private_key_enc: seal(key, der),
    development: a.development ?? false,
    created_at: new Date(),
  });
}

function toAgency(row: Record<string, unknown>): LocalAgency {
  return {
    organId: row.organ_id as string,
    name: row.name as string,
    certificate: new X509Certificate(row.certificate_pem as string),
    chain: row.chain_pem ? parseCertificates(row.chain_pem as string) : [],
    development: Boolean(row.development),
  };
}

export async function listLocalAgencies(db: Db): Promise<LocalAgency[]> {
  return (await db("local_agencies").orderBy([{ column: "created_at" }, { column: "organ_id" }])).map(toAgency);
}

export async function getLocalAgency(db: Db, organId: string): Promise<LocalAgency | null> {
  const row = await db("local_agencies").where({ organ_id: organId }).first();
  return row ? toAgency(row) : null;
}

/** The agency's signing identity, its private key decrypted with the master key. */
export async function loadIdentity(db: Db, key: Buffer, organId: string): Promise<Identity> {
  const row = await db("local_agencies").where({ organ_id: organId }).first();
  if (!row) throw new Error(`${organId} is not an agency of this node`);
  const agency = toAgency(row);
  const privateKey = createPrivateKey({ key: open(key, Buffer.from(row.private_key_enc)), format: "der", type: "pkcs8" });
  return { privateKey, certificate: agency.certificate, chain: agency.chain };
}
