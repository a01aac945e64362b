// One instance: configuration, live graphs, log, console, and the disk
// snapshots of a VM.
import { useEffect, useState } from 'preact/hooks';
import { get, instPath } from './api.js';
import { usePoll, useStats } from './hooks.js';
import { Graph } from './spark.jsx';
import { Actions } from './actions.jsx';
import { bytes, duration, pct, uptime, stateClass, withKind } from './util.js';

// xterm.js is most of the bundle: loaded when a console is first opened,
// after a plain GET tells whether this server has the console at all (a
// browser's WebSocket reports only "closed" for a missing endpoint).
function Console(props) {
  const [C, setC] = useState(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    get(props.path).catch((e) => e).then((e) => {
      if (e && e.missing) setMissing(true);
      else import('./console.jsx').then((m) => setC(() => m.Console));
    });
  }, [props.path]);
  if (missing) return <div class="card notice" data-testid="console-missing">Console: not available on this server.</div>;
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

function Snapshots({ inst }) {
  const disks = (inst.spec && inst.spec.disks) || [];
  const [snaps, setSnaps] = useState({});
  useEffect(() => {
    disks.forEach((d) => {
      const name = d.path.split('/').pop();
      get('/v1/disks/' + encodeURIComponent(name) + '/snapshots').then(
        (s) => setSnaps((o) => ({ ...o, [d.path]: s })),
        (e) => setSnaps((o) => ({ ...o, [d.path]: e })));
    });
  }, [inst.name, disks.length]);
  return (
    <div class="card">
      <h3>Disks and snapshots</h3>
      {!disks.length && <p class="dim">No disks: this VM boots a kernel.</p>}
      {disks.map((d) => {
        const s = snaps[d.path];
        return (
          <div key={d.path} class="disk">
            <div class="mono">{d.path} <span class="dim">{d.format || ''}{d.readonly ? ' · read-only' : ''}</span></div>
            {s instanceof Error ? <p class="notice">{s.missing || s.status === 404 ? 'Snapshots: not available on this server.' : s.message}</p>
              : Array.isArray(s) ? (s.length ? <ul>{s.map((x) => <li class="mono">{x.name || x.tag || JSON.stringify(x)}</li>)}</ul> : <p class="dim">No snapshots.</p>)
                : <p class="dim">…</p>}
          </div>
        );
      })}
    </div>
  );
}

function Graphs({ path, running }) {
  const { hist, status } = useStats(path, running, true);
  const col = (k) => hist.map((s) => s[k]);
  const padded = (v) => Array(Math.max(0, 60 - v.length)).fill(null).concat(v);
  if (!running) return <div class="card graphs-off dim">Live graphs appear while it runs.</div>;
  if (status === 'missing') return <div class="card notice">Live stats: not available on this server.</div>;
  const last = hist[hist.length - 1];
  return (
    <div class="graphs">
      <Graph title="CPU" values={padded(col('cpu'))} max={100} fmt={pct} cls="cpu" />
      <Graph title="Memory" values={padded(col('mem'))} max={last && last.memLimit} fmt={bytes} cls="mem" />
      <Graph title="Disk I/O" values={padded(col('disk'))} fmt={(x) => bytes(x) + '/s'} cls="disk" />
      <Graph title="Network" values={padded(col('net'))} fmt={(x) => bytes(x) + '/s'} cls="net" />
    </div>
  );
}

export function Detail({ kind, name }) {
  const path = instPath(kind, name);
  const inst = usePoll(path, 2000);
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
        {i && <span class="dim mono">{duration(uptime(i, now))}</span>}
        <span class="grow" />
        {i && <Actions inst={i} onDone={(v) => (v === 'remove' ? (location.hash = '#/') : inst.reload())} />}
      </div>
      <nav class="tabs">{tabs.map((t) => <button key={t} class={tab === t ? 'on' : ''} data-tab={t} onClick={() => setTab(t)}>{t[0].toUpperCase() + t.slice(1)}</button>)}</nav>
      {!i ? <p class="dim">Loading…</p> : (
        <>
          {tab === 'overview' && <div class="detail-grid"><Graphs path={path} running={running} /><Config inst={i} /></div>}
          {tab === 'console' && (running
            ? <Console path={path + '/console'} active />
            : <div class="card dim">The console opens while it runs.</div>)}
          {tab === 'log' && <Log path={path} />}
          {tab === 'disks' && <Snapshots inst={i} />}
        </>
      )}
    </>
  );
}
