// The vessel dashboard: a single-page app served by `vessel serve` at /.
// Hash routes (#/, #/vm/NAME, #/container/NAME, #/images, #/networks,
// #/disks); over TCP a login form takes the bearer token (session storage).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { get, getToken, prefetch, setToken, takeFragmentToken } from './api.js';
import { Overview } from './overview.jsx';
import { Detail } from './detail.jsx';
import { Images, Networks, Disks } from './lists.jsx';
import { Toasts } from './toast.jsx';

performance.mark('vessel-start'); // for the browser tests' timing

function useHash() {
  const [h, setH] = useState(location.hash);
  useEffect(() => {
    const f = () => { takeFragmentToken(); setH(location.hash); };
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return h.replace(/^#\/?/, '');
}

function Login({ error, onToken }) {
  const submit = (e) => {
    e.preventDefault();
    onToken(new FormData(e.target).get('token').trim());
  };
  return (
    <div class="login">
      <form class="card" onSubmit={submit} data-testid="login">
        <h1><Logo /> vessel</h1>
        <p class="dim">This server wants its API token (the first line of its <code>--token-file</code>).</p>
        <input name="token" type="password" autocomplete="current-password" placeholder="token" required autofocus class="mono" />
        {error && <p class="notice err" data-testid="login-error">{error}</p>}
        <button class="primary" type="submit">Sign in</button>
        <small class="dim">Kept in this tab only. Scripts may open <code>/#token=…</code>.</small>
      </form>
    </div>
  );
}

const Logo = () => (
  <svg class="logo" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
    <path d="M3 14h18l-3 6H6z" /><path d="M7 13V7h4v6M13 13V4h4v9" />
  </svg>
);

function Theme() {
  const [t, setT] = useState(localStorage.getItem('vessel.theme') || '');
  useEffect(() => {
    if (t) document.documentElement.dataset.theme = t;
    else delete document.documentElement.dataset.theme;
    localStorage.setItem('vessel.theme', t);
  }, [t]);
  const dark = t ? t === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  return <button class="ghost icon" title="Light or dark" aria-label="Toggle theme" onClick={() => setT(dark ? 'light' : 'dark')}>{dark ? '☀' : '☾'}</button>;
}

function Page({ route }) {
  const [a, b] = route.split('/');
  if (a === 'vm' || a === 'container') return <Detail kind={a} name={decodeURIComponent(b || '')} key={route} />;
  if (a === 'images') return <Images />;
  if (a === 'networks') return <Networks />;
  if (a === 'disks') return <Disks />;
  return <Overview />;
}

function App() {
  const route = useHash();
  // 'probe' until we know whether the server wants a token; with a token the
  // views start at once (a 401 from any request brings the form back)
  const [auth, setAuth] = useState({ state: getToken() ? 'ok' : 'probe', error: null });
  const tryToken = async (t) => {
    setToken(t);
    try {
      await get('/v1/host');
      setAuth({ state: 'ok', error: null });
    } catch (e) {
      setToken('');
      setAuth({ state: 'login', error: e.status === 401 ? 'The token was refused.' : e.message });
    }
  };
  useEffect(() => {
    // without a token, dashboard.json says whether one is needed: asking
    // /v1 instead would count as a failed attempt against the server's limit
    if (auth.state === 'probe') {
      fetch('/dashboard.json').then((r) => r.json()).then(
        (c) => setAuth({ state: c.token_required ? 'login' : 'ok', error: null }),
        () => setAuth({ state: 'ok', error: null }));
    }
    const f = () => { setToken(''); setAuth({ state: 'login', error: 'The token was refused.' }); };
    window.addEventListener('vessel-unauthorized', f);
    return () => window.removeEventListener('vessel-unauthorized', f);
  }, []);
  if (auth.state === 'probe') return <div class="boot dim">vessel…</div>;
  if (auth.state === 'login') {
    return <Login error={auth.error} onToken={tryToken} />;
  }
  const top = route.split('/')[0];
  const nav = [['', 'Overview'], ['images', 'Images'], ['networks', 'Networks'], ['disks', 'Disks']];
  return (
    <>
      <header class="top">
        <a class="brand" href="#/"><Logo /> vessel</a>
        <nav>{nav.map(([r, l]) => <a key={r} href={'#/' + r} class={top === r || (!r && (top === 'vm' || top === 'container')) ? 'on' : ''}>{l}</a>)}</nav>
        <span class="grow" />
        <Theme />
        {getToken() && <button class="ghost" onClick={() => { setToken(''); setAuth({ state: 'login', error: null }); }}>Sign out</button>}
      </header>
      <main><Page route={route} /></main>
      <Toasts />
    </>
  );
}

takeFragmentToken();
if (getToken() && !location.hash.replace(/^#\/?/, '')) prefetch(['/v1/host', '/v1/vms', '/v1/containers']);
render(<App />, document.getElementById('app'));
