// The console of an instance in the browser: xterm.js over the server's
// WebSocket (binary frames both ways: the guest's bytes, the keystrokes;
// the terminal's size as a text frame {"resize":[cols,rows]} when it opens
// and whenever it changes: a container's pty takes it, a VM's serial
// console ignores it; docs/api.md "Consoles over WebSocket").
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { openSocket } from './api.js';

function theme() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n) => cs.getPropertyValue(n).trim();
  return { background: v('--term-bg'), foreground: v('--term-fg'), cursor: v('--accent') };
}

export function Console({ path, active }) {
  const box = useRef(null);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    if (!active) return undefined;
    const term = new Terminal({ fontSize: 13, fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', theme: theme(), scrollback: 5000, convertEol: false });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    let ws;
    try {
      ws = openSocket(path);
    } catch (e) { // a token that cannot be a subprotocol (not hex, say)
      setState('error: ' + e.message);
      return () => term.dispose();
    }
    const enc = new TextEncoder();
    const sendSize = () => ws.readyState === 1 && ws.send(JSON.stringify({ resize: [term.cols, term.rows] }));
    ws.onopen = () => { setState('open'); sendSize(); term.focus(); };
    ws.onmessage = (e) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
    ws.onclose = (e) => setState(e.code === 1000 ? 'closed' : `closed (${e.code}${e.reason ? ': ' + e.reason : ''})`);
    ws.onerror = () => setState('error');
    const sub = term.onData((d) => ws.readyState === 1 && ws.send(enc.encode(d)));
    const subSize = term.onResize(sendSize);
    const onResize = () => fit.fit();
    window.addEventListener('resize', onResize);
    window.__vesselTerm = term; // for the browser tests: the screen's text
    return () => { window.removeEventListener('resize', onResize); subSize.dispose(); sub.dispose(); ws.close(); term.dispose(); };
  }, [path, active]);
  return (
    <div class="console card">
      <div class="console-head"><span>Console</span><span class={'conn conn-' + state.split(' ')[0]} data-testid="console-state">{state}</span></div>
      <div class="term" ref={box} data-testid="terminal" />
    </div>
  );
}
