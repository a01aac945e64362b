// Data hooks: polling a GET, and the stats history of one instance.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, stream } from './api.js';
import { normStats } from './util.js';

// {data, error, missing, reload}: GET path now and every `every` ms. An
// endpoint this server lacks ends in missing (no more polling).
export function usePoll(path, every = 2000) {
  const [st, setSt] = useState({ data: null, error: null, missing: false });
  const tick = useRef(0);
  const reload = async () => {
    const my = ++tick.current;
    try {
      const data = await get(path);
      if (my === tick.current) setSt({ data, error: null, missing: false });
    } catch (e) {
      if (my === tick.current) setSt((o) => ({ data: e.missing ? null : o.data, error: e, missing: !!e.missing }));
    }
  };
  useEffect(() => {
    if (!path) return undefined;
    setSt({ data: null, error: null, missing: false });
    reload();
    const id = every ? setInterval(() => { if (!document.hidden) reload(); }, every) : 0;
    return () => { clearInterval(id); tick.current++; };
  }, [path, every]);
  return { ...st, reload };
}

const POINTS = 60;
// each instance's history survives a change of view (list <-> page)
const histories = new Map();

function push(hist, s) {
  const h = hist.slice(-(POINTS - 1));
  h.push(s);
  return h;
}

// The last POINTS samples of an instance's stats (normalised), while it
// runs: streamed (SSE) when `live`, else one GET every 2 s. status: 'ok',
// 'missing' (no stats endpoint) or 'error'.
export function useStats(basePath, running, live) {
  const [hist, setHistState] = useState(() => histories.get(basePath) || []);
  const [status, setStatus] = useState('ok');
  const prev = useRef(hist[hist.length - 1] || null);
  const setHist = (f) => setHistState((h) => {
    const n = f(h);
    histories.set(basePath, n);
    return n;
  });
  useEffect(() => {
    if (!running || !basePath) return undefined;
    let stop = null, timer = 0, dead = false;
    const add = (raw) => {
      const s = normStats(raw, prev.current);
      prev.current = s;
      setHist((h) => push(h, s));
    };
    const failed = (e) => {
      if (dead) return;
      setStatus(e && e.missing ? 'missing' : 'error');
      if (e && e.missing) { clearInterval(timer); dead = true; }
    };
    if (live) {
      stop = stream(basePath + '/stats?stream=true', add, (e) => e && failed(e));
    } else {
      const once = () => !document.hidden && get(basePath + '/stats').then(add, failed);
      once();
      timer = setInterval(once, 2000);
    }
    return () => { dead = true; if (stop) stop(); clearInterval(timer); };
  }, [basePath, running, live]);
  return { hist, status };
}
