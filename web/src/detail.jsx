// One instance: configuration, live graphs, log, console, and the disk
// snapshots of a VM.
import { useEffect, useState } from 'preact/hooks';
import { api, get, instPath } from './api.js';
import { toast } from './toast.jsx';
import { usePoll, useStats } from './hooks.js';
import { Graph } from './spark.jsx';
import { Actions } from './actions.jsx';
import { bytes, duration, pct, uptime, stateClass, withKind } from './util.js';

// xterm.js is most of the bundle: loaded when a console is first opened,
// after a plain GET says whether the server has this console at all (a
// browser's WebSocket reports only "closed" for a refusal): 404 no such
// endpoint, or 409 (a container without a terminal) is shown as such; the
// expected answer is 400 (no upgrade headers).
function Console(props) {
  const [C, setC] = useState(null);
  const [refused, setRefused] = useState(null);
  useEffect(() => {
    get(props.path).catch((e) => e).then((e) => {
      if (e && e.missing) setRefused('Console: not available on this server.');
      else if (e && e.status === 409) setRefused(e.message);
      else import('./console.jsx').then((m) => setC(() => m.Console));
    });
  }, [props.path]);
  if (refused) return <div class="card notice" data-testid="console-missing">{refused}</div>;
  return C ? <C {...props} /> : <div class="console card"><div class="console-head"><span>Console</span></div><div class="term" /></div>;
}

function Config({ inst }) {
  const rows = inst.kind === 'vm'
    ? [['vCPUs', inst.cpus], ['Memory', bytes(inst.mem)], ['Kernel', inst.spec && inst.spec.kernel],
      ['Command line', inst.spec && inst.spec.append], ['Accel', inst.spec && inst.spec.accel], ['PID', inst.pid],
      ['Created', inst.created_at && new Date(inst.created_at * 1000).toLocaleString()],
      ['Exit', inst.exit_reason]]
    : [['Image', inst.image], ['ID', inst.id && inst.id.slice(0, 12)], ['Command', inst.spec && (inst.spec.command || []).join(' ')],
      ['Memory limit', inst.spec && inst.spec.memory ? bytes(inst.spec.memory) : 'none'],
      ['Network', inst.spec && inst.spec.network], ['PID', inst.pid],
      ['Created', inst.created_at_ms && new Date(inst.created_at_ms).toLocaleString()],
      ['Exit', inst.exit_code != null ? `${inst.exit_code}${inst.exit_reason ? ' (' + inst.exit_reason + ')' : ''}` : null]];
  return (
    <div class="card">
      <h3>Configuration</h3>
      <dl class="kv">{rows.filter((r) => r[1] != null && r[1] !== '').map(([k, v]) => <><dt>{k}</dt><dd class="mono">{String(v)}</dd></>)}</dl>
    </div>
  );
}

function Log({ path }) {
  const log = usePoll(path + '/logs', 3000);
  let text = log.data;
  if (text && typeof text === 'object') text = text.logs || text.log || (Array.isArray(text.lines) ? text.lines.join('\n') : JSON.stringify(text, null, 2));
  return (
    <div class="card">
      <h3>Log</h3>
      {log.missing ? <p class="notice">Logs: not available on this server.</p>
        : <pre class="log mono" data-testid="log">{text || (log.error ? log.error.message : '')}</pre>}
    </div>
  );
}

// A VM's disks as /v1/disks knows them (matched by path), with their
// internal snapshots and a form to take one (refused with the server's line
// while the VM holds the disk open).
function Snapshots({ inst }) {
  const disks = (inst.spec && inst.spec.disks) || [];
  const all = usePoll(disks.length ? '/v1/disks' : null, 5000);
  const [snap, setSnap] = useState('');
  const take = async (e, name) => {
    e.preventDefault();
    try {
      await api('POST', '/v1/disks/' + encodeURIComponent(name) + '/snapshots', { name: snap });
      toast(`${name}: snapshot ${snap} taken`);
      setSnap('');
      all.reload();
    } catch (x) {
      toast(`${name}: ${x.message}`, true);
    }
  };
  return (
    <div class="card" data-testid="snapshots">
      <h3>Disks and snapshots</h3>
      {!disks.length && <p class="dim">No disks: this VM boots a kernel.</p>}
      {all.missing && <p class="notice">Disks: not available on this server (no /v1/disks).</p>}
      {disks.map((d) => {
        const info = (all.data || []).find((x) => x.path === d.path);
        return (
          <div key={d.path} class="disk">
            <div class="mono">{d.path} <span class="dim">{d.format || ''}{d.readonly ? ' · read-only' : ''}</span></div>
            {all.data && !info && <p class="dim">Not a disk of this server's store (made outside &lt;root&gt;/disks): no snapshots here.</p>}
            {info && (
              <>
                <p class="dim">{bytes(info.virtual_size)} virtual · {bytes(info.actual_size)} allocated{info.backing ? ' · backing ' + info.backing : ''}</p>
                {info.snapshots.length ? (
                  <table class="plain"><thead><tr><th>Snapshot</th><th>Taken</th><th>VM state</th></tr></thead>
                    <tbody>{info.snapshots.map((x) => <tr key={x.id}><td class="mono">{x.name}</td><td>{new Date(x.date_sec * 1000).toLocaleString()}</td><td>{x.vm_state_size ? bytes(x.vm_state_size) : '–'}</td></tr>)}</tbody></table>
                ) : <p class="dim">No snapshots.</p>}
                {info.format === 'qcow2' && (
                  <form class="snap-form" onSubmit={(e) => take(e, info.name)}>
                    <input value={snap} onInput={(e) => setSnap(e.target.value)} placeholder="snapshot name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}" />
                    <button class="primary" type="submit">Take snapshot</button>
                  </form>
                )}
              </>
            )}
          </div>
        );
      })}
    </div>
  );
}

function Graphs({ path, running, hostMem }) {
  const { hist, status } = useStats(path, running, true);
  const col = (k) => hist.map((s) => s[k]);
  if (!running) return <div class="card graphs-off dim">Live graphs appear while it runs.</div>;
  if (status === 'missing') return <div class="card notice">Live stats: not available on this server.</div>;
  const last = hist[hist.length - 1];
  return (
    <div class="graphs">
      <Graph title="CPU" values={col('cpu')} floor={10} fmt={pct} cls="cpu" />
      <Graph title={last && last.memLimit && last.memLimit < hostMem ? `Memory (limit ${bytes(last.memLimit)})` : 'Memory'}
        values={col('mem')} fmt={bytes} cls="mem" />
      <Graph title="Disk I/O" values={col('disk')} floor={1024} fmt={(x) => bytes(x) + '/s'} cls="disk" />
      <Graph title="Network" values={col('net')} floor={1024} fmt={(x) => bytes(x) + '/s'} cls="net" />
    </div>
  );
}

export function Detail({ kind, name }) {
  const path = instPath(kind, name);
  const inst = usePoll(path, 2000);
  const host = usePoll('/v1/host', 0);
  const [tab, setTab] = useState('overview');
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t); }, []);
  if (inst.missing || (inst.error && inst.error.status === 404 && !inst.data)) {
    return <div class="card notice">{inst.error ? inst.error.message : 'Not available.'} <a href="#/">Back</a></div>;
  }
  const i = inst.data ? withKind(inst.data, kind) : null;
  const running = i && i.state === 'running';
  const tabs = ['overview', 'console', 'log'].concat(kind === 'vm' ? ['disks'] : []);
  return (
    <>
      <div class="detail-head">
        <a href="#/" class="ghost back" aria-label="Back">←</a>
        <h2 class="ellipsis">{name}</h2>
        {i && <span class={stateClass(i.state)} data-testid="state">{i.state}</span>}
        {i && uptime(i, now) != null && <span class="dim mono">up {duration(uptime(i, now))}</span>}
        <span class="grow" />
        {i && <Actions inst={i} onDone={(v) => (v === 'remove' ? (location.hash = '#/') : inst.reload())} />}
      </div>
      <nav class="tabs">{tabs.map((t) => <button key={t} class={tab === t ? 'on' : ''} data-tab={t} onClick={() => setTab(t)}>{t[0].toUpperCase() + t.slice(1)}</button>)}</nav>
      {!i ? <p class="dim">Loading…</p> : (
        <>
          {tab === 'overview' && <div class="detail-grid"><Graphs path={path} running={running} hostMem={host.data ? host.data.memory.total : Infinity} /><Config inst={i} /></div>}
          {tab === 'console' && (running
            ? <Console path={path + (kind === 'vm' ? '/console' : '/attach')} active />
            : <div class="card dim">The console opens while it runs.</div>)}
          {tab === 'log' && <Log path={path} />}
          {tab === 'disks' && <Snapshots inst={i} />}
        </>
      )}
    </>
  );
}
