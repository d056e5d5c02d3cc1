/**
 * ceph.conf for a throw-away, single-host Ceph Pacific (16.2) cluster on loopback:
 * one mon, one memstore OSD, one radosgw. Built as a typed object and serialised,
 * so every setting sits next to the reason it is there.
 */

export type CephConfValue = string | number | boolean;
export type CephConf = Record<string, Record<string, CephConfValue>>;

export interface CephConfInput {
  /** Absolute directory that holds every file of the cluster. */
  dir: string;
  fsid: string;
  monPort: number;
  rgwPort: number;
  /** Name of the radosgw instance; its section is `client.<rgwName>`. */
  rgwName: string;
  /** Upper bound of the OSD's RAM store, bytes. */
  memstoreBytes?: number;
}

export const MON_ID = "a";
export const OSD_ID = 0;

export function buildCephConf(input: CephConfInput): CephConf {
  const { dir } = input;
  if (!dir.startsWith("/")) throw new Error(`ceph cluster dir must be absolute, got "${dir}". Fix: pass an absolute path.`);
  for (const [field, port] of [
    ["monPort", input.monPort],
    ["rgwPort", input.rgwPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`ceph cluster ${field} must be an integer port in 1..65535, got ${port}. Fix: pick a free loopback port.`);
    }
  }
  return {
    global: {
      fsid: input.fsid,
      // msgr v2 only: one listening port per daemon, nothing on the legacy 6789.
      mon_host: `[v2:127.0.0.1:${input.monPort}]`,
      ms_bind_msgr1: false,
      ms_bind_msgr2: true,
      ms_bind_ipv6: false,
      public_addr: "127.0.0.1",
      cluster_addr: "127.0.0.1",
      // A test cluster on loopback: no cephx, so no keyrings to create or distribute.
      auth_cluster_required: "none",
      auth_service_required: "none",
      auth_client_required: "none",
      // With cephx off, clients otherwise negotiate "secure" mode and hang ~300 s on an auth error.
      ms_mon_client_mode: "crc",
      // One OSD: replicas of one, placement across OSDs instead of hosts.
      osd_pool_default_size: 1,
      osd_pool_default_min_size: 1,
      mon_allow_pool_size_one: true,
      mon_warn_on_pool_no_redundancy: false,
      osd_crush_chooseleaf_type: 0,
      // No ceph-mgr runs (it costs ~300 MB), so nothing would autoscale PGs; keep RGW's ~7 pools small.
      osd_pool_default_pg_num: 8,
      osd_pool_default_pgp_num: 8,
      osd_pool_default_pg_autoscale_mode: "off",
      // Objects live in RAM: no block device, no filesystem requirements.
      osd_objectstore: "memstore",
      memstore_device_bytes: input.memstoreBytes ?? 1024 * 1024 * 1024,
      // memstore only writes its state out on an orderly shutdown; fast shutdown skips that and loses everything.
      osd_fast_shutdown: false,
      // Fail fast instead of hanging when a daemon or the CLI cannot reach the mon.
      client_mount_timeout: 10,
      rados_mon_op_timeout: 30,
      rados_osd_op_timeout: 30,
      // The mon refuses to run when its disk is "nearly full"; CI disks often are, and nothing here is precious.
      mon_data_avail_crit: 1,
      mon_data_avail_warn: 2,
      run_dir: `${dir}/run`,
      log_file: `${dir}/log/$name.log`,
      mon_data: `${dir}/mon/$cluster-$id`,
      osd_data: `${dir}/osd/$cluster-$id`,
      // No keyrings exist (auth is off); pointing at /dev/null silences the search for one.
      keyring: "/dev/null",
      // One admin socket per daemon; CLI invocations get none, so concurrent ones do not collide.
      admin_socket: "",
    },
    mon: { admin_socket: `${dir}/run/$cluster-$name.asok` },
    osd: { admin_socket: `${dir}/run/$cluster-$name.asok` },
    [`client.${input.rgwName}`]: {
      admin_socket: `${dir}/run/$cluster-$name.asok`,
      rgw_frontends: `beast endpoint=127.0.0.1:${input.rgwPort}`,
      rgw_data: `${dir}/rgw`,
      // Repeated here because radosgw is where the hang was observed; harmless duplication of [global].
      ms_mon_client_mode: "crc",
      // Enough for tests, far fewer threads (and RSS) than the default 512.
      rgw_thread_pool_size: 64,
    },
  };
}

function renderValue(key: string, value: CephConfValue): string {
  const text = String(value);
  if (/[\r\n]/.test(text)) throw new Error(`ceph.conf value for ${key} must be one line, got ${JSON.stringify(text)}.`);
  return text;
}

export function renderCephConf(conf: CephConf): string {
  const lines: string[] = [];
  for (const [section, entries] of Object.entries(conf)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(section))
      throw new Error(`ceph.conf section name "${section}" is not valid. Fix: use letters, digits, '.', '_' or '-'.`);
    lines.push(`[${section}]`);
    for (const [key, value] of Object.entries(entries)) {
      if (!/^[a-z0-9_]+$/.test(key)) throw new Error(`ceph.conf key "${key}" in [${section}] is not valid. Fix: use lower_snake_case.`);
      lines.push(`${key} = ${renderValue(key, value)}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
