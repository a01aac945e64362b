// The REST API as the dashboard uses it (docs/api.md): fetch with the
// bearer token when the server wants one, JSON errors as exceptions with
// the server's one line, Server-Sent Events read through fetch (EventSource
// cannot send an Authorization header), and the WebSocket URL of a console.

const TOKEN_KEY = 'vessel.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// A `#token=...` fragment (scripted use: a fragment never reaches the server)
// is moved into session storage and dropped from the address bar.
export function takeFragmentToken() {
  const m = /^#token=([^&]+)(?:&(.*))?$/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search + (m[2] ? '#' + m[2] : '#/'));
}

export class ApiError extends Error {
  constructor(status, msg) {
    super(msg);
    this.status = status;
  }
  // the endpoint is not in this server (an older vessel): the view says so
  get missing() {
    return this.status === 404 && /no such endpoint/.test(this.message);
  }
}

function headers(extra) {
  const h = Object.assign({}, extra);
  const t = getToken();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

async function fail(r) {
  let msg = r.status + ' ' + r.statusText;
  try {
    const j = await r.json();
    if (j && j.error) msg = j.error;
  } catch (e) { /* not JSON: keep the status line */ }
  const err = new ApiError(r.status, msg);
  if (r.status === 401) window.dispatchEvent(new CustomEvent('vessel-unauthorized'));
  throw err;
}

export async function api(method, path, body) {
  const opt = { method, headers: headers(body ? { 'Content-Type': 'application/json' } : {}) };
  if (body !== undefined) opt.body = JSON.stringify(body);
  const r = await fetch(path, opt);
  if (!r.ok) await fail(r);
  if (r.status === 204) return null;
  const type = r.headers.get('Content-Type') || '';
  return type.includes('json') ? r.json() : r.text();
}

// GETs started before the first render (prefetch) and taken by the first
// get() of the same path: the overview's data is on its way while the
// page still renders.
const early = new Map();

export function prefetch(paths) {
  for (const p of paths) {
    const pr = api('GET', p);
    pr.catch(() => {}); // the get() that takes it sees the error
    early.set(p, pr);
  }
}

export function get(p) {
  const pr = early.get(p);
  if (pr) {
    early.delete(p);
    return pr;
  }
  return api('GET', p);
}

// GET path as an SSE stream: calls onData(parsed JSON) per `data:` event
// until the returned stop() or the end of the stream. onEnd(err) once.
export function stream(path, onData, onEnd) {
  const ctl = new AbortController();
  (async () => {
    const r = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal: ctl.signal });
    if (!r.ok) await fail(r);
    const rd = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await rd.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = ev.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data) {
          try { onData(JSON.parse(data)); } catch (e) { /* a partial or foreign event */ }
        }
      }
    }
  })().then(() => onEnd && onEnd(null), (e) => { if (!ctl.signal.aborted && onEnd) onEnd(e); });
  return () => ctl.abort();
}

// The console's WebSocket: ws(s)://<this host><path>. A browser cannot set
// headers on a WebSocket, so the token travels as a subprotocol next to
// "vessel" (which the server selects): Sec-WebSocket-Protocol: vessel,
// bearer.<token> (docs/api.md), never in the URL. A token with characters a
// subprotocol cannot hold makes the constructor throw: the caller says so.
export function openSocket(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = getToken();
  const protocols = ['vessel'];
  if (t) protocols.push('bearer.' + t);
  const ws = new WebSocket(proto + '//' + location.host + path, protocols);
  ws.binaryType = 'arraybuffer';
  return ws;
}

export const kinds = {
  vm: { path: '/v1/vms', label: 'VM' },
  container: { path: '/v1/containers', label: 'Container' },
};

export function instPath(kind, name) {
  return kinds[kind].path + '/' + encodeURIComponent(name);
}
