// The overview: the host summary and one list of VMs and containers with
// state, uptime, live CPU/memory sparklines and actions.
import { useEffect, useState } from 'preact/hooks';
import { instPath } from './api.js';
import { usePoll, useStats } from './hooks.js';
import { Spark } from './spark.jsx';
import { Actions } from './actions.jsx';
import { bytes, duration, pct, uptime, stateClass, withKind } from './util.js';
import { CreateButtons } from './create.jsx';

function Meter({ used, total }) {
  const f = total ? Math.min(1, used / total) : 0;
  return <div class="meter"><i style={{ width: (f * 100).toFixed(1) + '%' }} class={f > 0.9 ? 'hot' : ''} /></div>;
}

const plural = (n, what) => (n == null ? '– ' + what + 's' : `${n} ${what}${n === 1 ? '' : 's'}`);

function HostSummary({ host, vms, ctrs }) {
  const h = host.data;
  const count = (p) => (p.missing ? null : p.data ? p.data.length : null);
  const running = (p) => (p.data ? p.data.filter((x) => x.state === 'running').length : 0);
  const memUsed = h ? h.memory.total - h.memory.available : 0;
  const diskUsed = h && h.disk ? h.disk.total - h.disk.available : 0;
  return (
    <section class="summary" data-testid="host">
      <div class="card stat">
        <span class="label">CPU</span>
        <b>{h ? h.cpus : '–'}</b><small>{h ? `cores · ${h.arch}` : ''}</small>
        <small class="dim mono ellipsis">{h ? `Linux ${h.kernel}` : ''}</small>
      </div>
      <div class="card stat">
        <span class="label">Memory</span>
        <b>{h ? bytes(memUsed) : '–'}</b><small>{h ? 'of ' + bytes(h.memory.total) : ''}</small>
        <Meter used={memUsed} total={h && h.memory.total} />
      </div>
      <div class="card stat">
        <span class="label">Disk</span>
        <b>{h && h.disk ? bytes(diskUsed) : '–'}</b><small>{h && h.disk ? 'of ' + bytes(h.disk.total) : ''}</small>
        <Meter used={diskUsed} total={h && h.disk && h.disk.total} />
      </div>
      <div class="card stat">
        <span class="label">Instances</span>
        <b>{running(vms) + running(ctrs)}<small> running</small></b>
        <small>{plural(count(vms), 'VM')} · {ctrs.missing ? 'containers n/a' : plural(count(ctrs), 'container')}</small>
        <small class="dim">vessel {h ? h.version : ''}</small>
      </div>
    </section>
  );
}

function Row({ inst, now, onChanged }) {
  const running = inst.state === 'running';
  const { hist, status } = useStats(instPath(inst.kind, inst.name), running, false);
  const cpu = hist.map((s) => s.cpu), mem = hist.map((s) => s.mem);
  const last = hist[hist.length - 1];
  const what = inst.kind === 'vm'
    ? `${inst.cpus} vCPU · ${bytes(inst.mem)}`
    : inst.image || (inst.spec && inst.spec.image) || '';
  return (
    <tr data-name={inst.name} data-kind={inst.kind} data-state={inst.state}>
      <td class="c-name">
        <a href={`#/${inst.kind}/${encodeURIComponent(inst.name)}`}>{inst.name}</a>
        <small class="dim ellipsis">{what}</small>
      </td>
      <td class="c-kind"><span class={'kind kind-' + inst.kind}>{inst.kind === 'vm' ? 'VM' : 'CTR'}</span></td>
      <td class="c-state"><span class={stateClass(inst.state)} data-testid="state">{inst.state}</span></td>
      <td class="c-up mono">{duration(uptime(inst, now))}</td>
      <td class="c-cpu" data-label={running ? 'CPU' : undefined}>{running && status !== 'missing'
        ? <><Spark values={cpu} floor={10} slots={20} cls="cpu" /><span class="mono v">{pct(last && last.cpu)}</span></>
        : <span class="dim" title="no stats for this instance on this server">{running ? 'n/a' : ''}</span>}</td>
      <td class="c-mem" data-label={running ? 'Mem' : undefined}>{running && status !== 'missing'
        ? <><Spark values={mem} slots={20} cls="mem" /><span class="mono v">{bytes(last && last.mem)}</span></>
        : <span class="dim">{running ? 'n/a' : ''}</span>}</td>
      <td class="c-act"><Actions inst={inst} compact onDone={onChanged} /></td>
    </tr>
  );
}

export function Overview() {
  const host = usePoll('/v1/host', 5000);
  const vms = usePoll('/v1/vms', 2000);
  const ctrs = usePoll('/v1/containers', 2000);
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t); }, []);
  const tag = (p, kind) => (p.data || []).map((x) => withKind(x, kind));
  const all = [...tag(vms, 'vm'), ...tag(ctrs, 'container')].sort((a, b) => a.name.localeCompare(b.name));
  const reload = () => { vms.reload(); ctrs.reload(); host.reload(); };
  const loading = !vms.data && !vms.error;
  // first data on screen: what the browser test measures as interactive
  useEffect(() => {
    if (!loading && !window.__vesselInteractive) window.__vesselInteractive = performance.now();
  }, [loading]);
  return (
    <>
      <HostSummary host={host} vms={vms} ctrs={ctrs} />
      <section class="card list">
        <div class="list-head">
          <h2>Instances</h2>
          <CreateButtons ctrAvailable={!ctrs.missing} onCreated={reload} host={host.data} />
        </div>
        {ctrs.missing && <p class="notice" data-testid="ctr-missing">Containers: not available on this server (no /v1/containers).</p>}
        {vms.error && !vms.missing && <p class="notice err">{vms.error.message}</p>}
        <table class="inst" data-testid="instances">
          <thead><tr><th>Name</th><th>Kind</th><th>State</th><th>Uptime</th><th>CPU</th><th>Memory</th><th /></tr></thead>
          <tbody>
            {all.map((i) => <Row key={i.kind + '/' + i.name} inst={i} now={now} onChanged={reload} />)}
          </tbody>
        </table>
        {!loading && all.length === 0 && <p class="empty">Nothing here yet: create a VM or a container.</p>}
        {loading && <p class="empty dim">Loading…</p>}
      </section>
    </>
  );
}
