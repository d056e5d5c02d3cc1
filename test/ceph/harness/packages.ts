/**
 * The Debian packages the single-host cluster needs, installed when missing.
 * ceph-mgr is deliberately absent: nothing here needs it and it costs ~300 MB.
 */
import { ensurePackages, type InstallResult } from "../../support/system-packages";

/** Binary → the package that provides it. */
export const CEPH_BINARIES = {
  "ceph-mon": "ceph-mon",
  monmaptool: "ceph-mon",
  "ceph-osd": "ceph-osd",
  radosgw: "radosgw",
  "radosgw-admin": "radosgw",
  ceph: "ceph-common",
} as const;

/** Installs the Ceph packages when any binary is missing; a no-op (0 s) when all are present. */
export function ensureCephPackages(log: (line: string) => void = () => undefined): InstallResult {
  return ensurePackages(CEPH_BINARIES, log);
}
