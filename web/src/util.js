// Formatting and the normalisation of stats samples.

export function bytes(n) {
  if (n == null || isNaN(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i && n < 10 ? n.toFixed(1) : Math.round(n)) + ' ' + u[i];
}

export function duration(ms) {
  if (ms == null || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's';
  const h = Math.floor(m / 60);
  if (h < 48) return h + 'h ' + (m % 60) + 'm';
  return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
}

export function pct(x) {
  return x == null || isNaN(x) ? '–' : (x < 10 ? x.toFixed(1) : Math.round(x)) + '%';
}

// Uptime of an instance in ms (VMs report uptime_ms; containers started_at_ms).
export function uptime(inst, now) {
  if (!['running', 'paused'].includes(inst.state)) return null;
  if (inst.started_at_ms) return Math.max(0, now - inst.started_at_ms);
  return inst.uptime_ms != null ? inst.uptime_ms : null;
}

function num(...xs) {
  for (const x of xs) if (typeof x === 'number' && isFinite(x)) return x;
  return null;
}

// One stats sample (openapi.yaml CtrStats: cpu_ns, cpu_percent, mem_usage,
// mem_limit, blk_read/write, net_rx/tx, read_at_ns) as {t, cpu (% of one CPU), mem (bytes), memLimit, disk (B/s), net (B/s)}:
// the server's sample may give CPU as a percentage or as cumulative
// nanoseconds, I/O as cumulative byte counters; rates come from the
// previous sample.
export function normStats(s, prev) {
  const t = num(s.read_at_ns != null ? s.read_at_ns / 1e6 : null, s.timestamp_ms, s.time_ms) ?? Date.now();
  const cpuNs = num(s.cpu_ns, s.cpu_usage_ns, s.cpu_time_ns, s.cpu && s.cpu.usage_ns);
  const rw = (a, b) => (a == null && b == null ? null : (a || 0) + (b || 0));
  const diskB = rw(num(s.blk_read, s.disk_read_bytes, s.blk_read_bytes, s.disk && s.disk.read_bytes, s.block && s.block.read_bytes),
    num(s.blk_write, s.disk_write_bytes, s.blk_write_bytes, s.disk && s.disk.write_bytes, s.block && s.block.write_bytes));
  const netB = rw(num(s.net_rx, s.net_rx_bytes, s.network && s.network.rx_bytes, s.net && s.net.rx_bytes),
    num(s.net_tx, s.net_tx_bytes, s.network && s.network.tx_bytes, s.net && s.net.tx_bytes));
  const o = {
    t, cpuNs, diskB, netB,
    cpu: num(s.cpu_percent, s.cpu_pct, s.cpu && s.cpu.percent),
    mem: num(s.mem_usage, s.memory_bytes, s.mem_bytes, s.memory_usage, typeof s.memory === 'number' ? s.memory : null,
      s.memory && s.memory.usage, s.rss, s.rss_bytes),
    memLimit: num(s.mem_limit, s.memory_limit, s.mem_limit, s.memory && s.memory.limit),
    disk: null, net: null,
  };
  if (prev) {
    const dt = (t - prev.t) / 1000;
    if (dt > 0) {
      if (o.cpu == null && cpuNs != null && prev.cpuNs != null) o.cpu = Math.max(0, (cpuNs - prev.cpuNs) / 1e7 / dt);
      if (diskB != null && prev.diskB != null) o.disk = Math.max(0, (diskB - prev.diskB) / dt);
      if (netB != null && prev.netB != null) o.net = Math.max(0, (netB - prev.netB) / dt);
    }
  }
  return o;
}

export const stateClass = (s) => 'st st-' + (s || 'unknown');

// A container's info says running with "paused": true while frozen; the
// dashboard shows one state.
export function withKind(x, kind) {
  return { ...x, kind, state: x.paused && x.state === 'running' ? 'paused' : x.state };
}
