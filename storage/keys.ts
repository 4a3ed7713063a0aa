// Private keys at rest: encrypted with AES-256-GCM under the node's master key. The master key
// is given (EDOC_MASTER_KEY: base64, 32 bytes; required when several nodes share a database) or
// read from `master.key` in the data directory, created on first use and readable by the owner only.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function masterKey(dataDir: string, given: string | undefined): Buffer {
  if (given) {
    const key = Buffer.from(given, "base64");
    if (key.length !== 32) throw new Error("EDOC_MASTER_KEY must be 32 bytes in base64");
    return key;
  }
  const file = join(dataDir, "master.key");
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return masterKey(dataDir, readFileSync(file, "utf8").trim());
}

/** iv (12) ‖ tag (16) ‖ ciphertext */
export function seal(key: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
  } catch {
    throw new Error("a stored private key cannot be decrypted: the master key (EDOC_MASTER_KEY or master.key) is not the one it was stored with");
  }
}
