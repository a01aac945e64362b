// The images, networks and disks lists: a table each, or "not available"
// where this server has no such endpoint.
import { usePoll } from './hooks.js';
import { bytes } from './util.js';

function Table({ title, path, cols, rowKey, empty }) {
  const p = usePoll(path, 5000);
  return (
    <section class="card list" data-testid={'list-' + title.toLowerCase()}>
      <div class="list-head"><h2>{title}</h2></div>
      {p.missing ? <p class="notice" data-testid="missing">{title}: not available on this server (no {path}).</p>
        : p.error ? <p class="notice err">{p.error.message}</p>
          : !p.data ? <p class="empty dim">Loading…</p>
            : !p.data.length ? <p class="empty">{empty}</p>
              : (
                <table class="plain">
                  <thead><tr>{cols.map((c) => <th key={c[0]}>{c[0]}</th>)}</tr></thead>
                  <tbody>{p.data.map((r) => <tr key={rowKey(r)}>{cols.map((c) => <td key={c[0]} class={c[2] || ''}>{c[1](r)}</td>)}</tr>)}</tbody>
                </table>
              )}
    </section>
  );
}

const when = (x) => (x ? new Date(typeof x === 'number' ? (x < 1e12 ? x * 1000 : x) : x).toLocaleString() : '–');

export const Images = () => (
  <Table title="Images" path="/v1/images" rowKey={(r) => r.Digest} empty="No images: vessel image import FILE."
    cols={[['Name', (r) => r.Name, 'mono'], ['Digest', (r) => (r.Digest || '').replace('sha256:', '').slice(0, 12), 'mono dim'],
      ['Size', (r) => bytes(r.Size)], ['Layers', (r) => (r.Layers || []).length], ['Platform', (r) => [r.Os, r.Architecture].filter(Boolean).join('/')],
      ['Imported', (r) => when(r.Imported)]]} />
);

export const Networks = () => (
  <Table title="Networks" path="/v1/networks" rowKey={(r) => r.name} empty="No networks: vessel network create NAME."
    cols={[['Name', (r) => r.name, 'mono'], ['Subnet', (r) => r.subnet, 'mono'], ['Gateway', (r) => r.gateway, 'mono'],
      ['Bridge', (r) => r.bridge, 'mono dim'], ['Addresses', (r) => (r.addresses || []).length],
      ['State', (r) => <span class={'st st-' + (r.present === false ? 'stopped' : 'running')}>{r.present === false ? 'absent' : 'up'}</span>]]} />
);

export const Disks = () => (
  <Table title="Disks" path="/v1/disks" rowKey={(r) => r.name || r.path} empty="No disks: POST /v1/disks or vessel img create."
    cols={[['Name', (r) => r.name || (r.path || '').split('/').pop(), 'mono'], ['Format', (r) => r.format],
      ['Size', (r) => bytes(r.virtual_size != null ? r.virtual_size : r.size)], ['Allocated', (r) => bytes(r.actual_size != null ? r.actual_size : r.allocated)],
      ['Snapshots', (r) => (Array.isArray(r.snapshots) ? r.snapshots.length : '–')],
      ['Backing', (r) => r.backing || '–', 'mono dim'], ['Path', (r) => r.path, 'mono dim ellipsis']]} />
);
