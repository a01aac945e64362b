// The create dialogs: a container from an image, a VM from a kernel or a
// disk. Each creates, then starts, and reports the server's one line on
// failure without closing.
import { useState } from 'preact/hooks';
import { api, instPath } from './api.js';
import { usePoll } from './hooks.js';
import { Dialog } from './dialog.jsx';
import { toast } from './toast.jsx';
import { bytes } from './util.js';

const MiB = 1 << 20;

// "sh -c 'echo hi'" -> ["sh", "-c", "echo hi"]: spaces split, quotes group.
export function splitArgs(s) {
  const out = [];
  let cur = '', q = null, any = false;
  for (const c of s) {
    if (q) { if (c === q) q = null; else cur += c; } else if (c === '"' || c === "'") { q = c; any = true; } else if (/\s/.test(c)) { if (cur || any) out.push(cur); cur = ''; any = false; } else cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

function Field({ label, hint, children }) {
  return <label class="field"><span>{label}</span>{children}{hint && <small class="dim">{hint}</small>}</label>;
}

async function createAndStart(kind, body, start) {
  await api('POST', kind === 'vm' ? '/v1/vms' : '/v1/containers', body);
  if (start) await api('POST', instPath(kind, body.name) + '/start');
}

function Form({ kind, build, onClose, onCreated, children }) {
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const [start, setStart] = useState(true);
  const submit = async (e) => {
    e.preventDefault();
    let body;
    try { body = build(new FormData(e.target)); } catch (x) { setErr(x.message); return; }
    setBusy(true);
    setErr(null);
    try {
      await createAndStart(kind, body, start);
      toast(`${body.name}: created${start ? ' and started' : ''}`);
      onCreated();
      onClose();
    } catch (x) {
      setErr(x.message);
      onCreated();
    }
    setBusy(false);
  };
  return (
    <form onSubmit={submit} class="form" data-testid={'create-' + kind}>
      {children}
      <label class="check"><input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} /> Start after creating</label>
      {err && <p class="notice err" data-testid="create-error">{err}</p>}
      <footer>
        <button type="button" class="ghost" onClick={onClose}>Cancel</button>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
      </footer>
    </form>
  );
}

function ContainerDialog({ onClose, onCreated }) {
  const images = usePoll('/v1/images', 0);
  const build = (f) => {
    const body = { name: f.get('name').trim(), image: f.get('image') };
    const cmd = splitArgs(f.get('command'));
    if (cmd.length) body.command = cmd;
    const mem = Number(f.get('memory'));
    if (mem) body.memory = mem * MiB;
    if (f.get('network') !== 'none') body.network = f.get('network');
    return body;
  };
  const list = images.data || [];
  return (
    <Dialog title="New container" onClose={onClose}>
      <Form kind="container" build={build} onClose={onClose} onCreated={onCreated}>
        <Field label="Name"><input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}" placeholder="web" autofocus /></Field>
        <Field label="Image" hint={images.data && !list.length ? 'No images: vessel image import FILE' : null}>
          <select name="image" required>
            {list.map((i) => <option key={i.Name} value={i.Name}>{i.Name} ({bytes(i.Size)})</option>)}
          </select>
        </Field>
        <Field label="Command" hint="Empty: the image's default"><input name="command" placeholder="sh -c 'echo hello; sleep 1000'" class="mono" /></Field>
        <div class="row2">
          <Field label="Memory (MiB)"><input name="memory" type="number" min="4" placeholder="no limit" /></Field>
          <Field label="Network"><select name="network"><option value="none">none</option><option value="host">host</option></select></Field>
        </div>
      </Form>
    </Dialog>
  );
}

function VmDialog({ onClose, onCreated, host }) {
  const [boot, setBoot] = useState('kernel');
  const disks = usePoll(boot === 'disk' ? '/v1/disks' : null, 0);
  const h = host || {};
  const maxMiB = h.memory ? Math.floor(h.memory.available / MiB) : undefined;
  const build = (f) => {
    const body = { name: f.get('name').trim(), cpus: Number(f.get('cpus')), mem: Number(f.get('mem')) * MiB };
    if (boot === 'kernel') {
      body.kernel = f.get('kernel').trim();
      if (f.get('initrd').trim()) body.initrd = f.get('initrd').trim();
      if (f.get('append').trim()) body.append = f.get('append').trim();
    } else {
      body.disks = [{ path: f.get('disk').trim() }];
    }
    if (f.get('accel') !== 'auto') body.accel = f.get('accel');
    return body;
  };
  return (
    <Dialog title="New VM" onClose={onClose}>
      <Form kind="vm" build={build} onClose={onClose} onCreated={onCreated}>
        <Field label="Name"><input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}" placeholder="vm1" autofocus /></Field>
        <div class="seg" role="radiogroup">
          <button type="button" class={boot === 'kernel' ? 'on' : ''} onClick={() => setBoot('kernel')}>Kernel</button>
          <button type="button" class={boot === 'disk' ? 'on' : ''} onClick={() => setBoot('disk')}>Disk</button>
        </div>
        {boot === 'kernel' ? (
          <>
            <Field label="Kernel" hint="A path on the host"><input name="kernel" required class="mono" placeholder="/var/lib/vessel/guest/vmlinuz" /></Field>
            <div class="row2">
              <Field label="Initrd"><input name="initrd" class="mono" placeholder="optional" /></Field>
              <Field label="Kernel command line"><input name="append" class="mono" placeholder="optional" /></Field>
            </div>
          </>
        ) : (
          <Field label="Disk image" hint="raw or qcow2: a disk of /v1/disks, or a path on the host">
            <input name="disk" required class="mono" list="vessel-disks" placeholder="/var/lib/vessel/disks/root.qcow2" />
            <datalist id="vessel-disks">{(disks.data || []).map((d) => <option key={d.path} value={d.path}>{d.name} ({bytes(d.virtual_size)})</option>)}</datalist>
          </Field>
        )}
        <div class="row3">
          <Field label="CPUs"><input name="cpus" type="number" min="1" max={h.cpus || 254} defaultValue="1" required /></Field>
          <Field label="Memory (MiB)" hint={maxMiB ? `≤ ${maxMiB} available` : null}>
            <input name="mem" type="number" min="32" max={maxMiB} defaultValue="128" required />
          </Field>
          <Field label="Accel"><select name="accel"><option>auto</option><option>kvm</option><option>emu</option></select></Field>
        </div>
        <Field label="Network" hint="The VM spec has no network field yet (docs/api/vm-spec.md): a VM gets none.">
          <select name="network" disabled><option value="">none</option></select>
        </Field>
      </Form>
    </Dialog>
  );
}

export function CreateButtons({ ctrAvailable, onCreated, host }) {
  const [open, setOpen] = useState(null);
  return (
    <div class="create">
      <button class="primary" data-testid="new-vm" onClick={() => setOpen('vm')}>New VM</button>
      <button class="primary" data-testid="new-container" disabled={!ctrAvailable}
        title={ctrAvailable ? '' : 'Containers: not available on this server'} onClick={() => setOpen('ctr')}>New container</button>
      {open === 'vm' && <VmDialog host={host} onClose={() => setOpen(null)} onCreated={onCreated} />}
      {open === 'ctr' && <ContainerDialog onClose={() => setOpen(null)} onCreated={onCreated} />}
    </div>
  );
}
