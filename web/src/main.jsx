// The vessel dashboard: a single-page app served by `vessel serve` at /.
// Hash routes (#/, #/vm/NAME, #/container/NAME, #/images, #/networks,
// #/disks); over TCP a login form takes the bearer token (session storage).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { get, getToken, setToken, takeFragmentToken } from './api.js';
import { Overview } from './overview.jsx';
import { Detail } from './detail.jsx';
import { Images, Networks, Disks } from './lists.jsx';
import { Toasts } from './toast.jsx';

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
  // 'probe' until /v1/host answers; 'login' when it wants a token
  const [auth, setAuth] = useState({ state: 'probe', error: null });
  const probe = async () => {
    try {
      await get('/v1/host');
      setAuth({ state: 'ok', error: null });
    } catch (e) {
      if (e.status === 401 || e.status === 429) {
        if (getToken()) setToken('');
        setAuth({ state: 'login', error: getToken() || e.status === 429 || auth.state === 'login' ? e.message : null });
      } else {
        setAuth({ state: 'ok', error: null }); // the views show what fails
      }
    }
  };
  useEffect(() => {
    // a page without a token asks dashboard.json first, so that it does
    // not count as a failed attempt against the server's limit
    (async () => {
      if (!getToken()) {
        try {
          const c = await (await fetch('/dashboard.json')).json();
          if (c.token_required) { setAuth({ state: 'login', error: null }); return; }
        } catch (e) { /* an older server: probe */ }
      }
      probe();
    })();
    const f = () => setAuth({ state: 'login', error: 'The token was refused.' });
    window.addEventListener('vessel-unauthorized', f);
    return () => window.removeEventListener('vessel-unauthorized', f);
  }, []);
  if (auth.state === 'probe') return <div class="boot dim">vessel…</div>;
  if (auth.state === 'login') {
    return <Login error={auth.error} onToken={(t) => { setToken(t); setAuth({ state: 'probe', error: null }); probe(); }} />;
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
render(<App />, document.getElementById('app'));
