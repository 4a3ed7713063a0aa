// The agency registry as the verifier needs it: which certificates may sign for which organ id.

export interface RegistryEntry {
  organId: string;
  name?: string;
  /** The organ id of the parent agency. */
  parentId?: string;
  /** Base URL of the node hosting the agency (packets go to `{endpoint}/edxml`). */
  endpoint?: string;
  /** "active" (the default when absent) or another state; only an active agency binds signers. */
  status?: string;
  /** SHA-256 fingerprints of the DER certificates, lowercase hex. */
  certificateFingerprints: string[];
  /** The certificates themselves, PEM, when the registry carries them. */
  certificatesPem?: string;
}

export type Registry = Map<string, RegistryEntry>;

/** Normalises "AB:CD:…" or "abcd…" to lowercase hex without separators. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[:\s]/g, "").toLowerCase();
}

/** The plain JSON form: {"agencies":[{"organId","name"?,"status"?,"certificateFingerprints":["sha256 hex"]}]}. */
export function registryFromJson(json: unknown): Registry {
  const agencies = (json as { agencies?: unknown })?.agencies;
  if (!Array.isArray(agencies)) throw new Error('a registry file must be {"agencies": [...]}');
  const registry: Registry = new Map();
  for (const [i, a] of agencies.entries()) {
    const organId = typeof a?.organId === "string" ? a.organId.trim() : "";
    const fps = a?.certificateFingerprints;
    if (!organId) throw new Error(`registry entry ${i + 1} has no organId`);
    if (!Array.isArray(fps) || fps.some((f) => typeof f !== "string" || !/^[0-9a-f]{64}$/.test(normalizeFingerprint(f)))) {
      throw new Error(`registry entry ${organId}: certificateFingerprints must be SHA-256 fingerprints in hex`);
    }
    if (a.status !== undefined && typeof a.status !== "string") throw new Error(`registry entry ${organId}: status must be text`);
    registry.set(organId, {
      organId,
      name: typeof a.name === "string" ? a.name : undefined,
      // kept so that an inactive agency stays so (see isBound)
      ...(a.status !== undefined ? { status: a.status } : {}),
      certificateFingerprints: fps.map(normalizeFingerprint),
    });
  }
  return registry;
}

/** The plain JSON form of `entries` (what registryFromJson reads back): organ id, name, status, fingerprints. */
export function registryToJson(entries: RegistryEntry[]): { agencies: Array<Pick<RegistryEntry, "organId" | "name" | "status" | "certificateFingerprints">> } {
  return {
    agencies: entries.map((e) => ({
      organId: e.organId,
      ...(e.name !== undefined ? { name: e.name } : {}),
      // an agency's status is kept so that a deactivated one stays so
      ...(e.status !== undefined ? { status: e.status } : {}),
      certificateFingerprints: e.certificateFingerprints,
    })),
  };
}

/** Whether `fingerprint` is registered for `organId`, and the agency is active. */
export function isBound(registry: Registry, organId: string, fingerprint: string): boolean {
  const entry = registry.get(organId);
  if (!entry || (entry.status !== undefined && entry.status !== "active")) return false;
  return entry.certificateFingerprints.includes(normalizeFingerprint(fingerprint));
}
