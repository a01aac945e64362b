// The actions of an instance (start, stop, pause/resume, restart, remove),
// each behind a confirmation but start and resume.
import { useState } from 'preact/hooks';
import { api, instPath } from './api.js';
import { Confirm } from './dialog.jsx';
import { toast } from './toast.jsx';

const ACTIONS = {
  start: { label: 'Start', when: ['created', 'stopped', 'exited'] },
  stop: { label: 'Stop', when: ['running', 'paused'], confirm: 'stops', danger: true },
  pause: { label: 'Pause', when: ['running'], confirm: 'pauses' },
  resume: { label: 'Resume', when: ['paused'] },
  restart: { label: 'Restart', when: ['running'], confirm: 'restarts', danger: true },
  remove: { label: 'Remove', when: ['created', 'stopped', 'exited'], confirm: 'removes', danger: true },
};

export function Actions({ inst, onDone, compact }) {
  const [ask, setAsk] = useState(null);
  const [busy, setBusy] = useState(null);
  const run = async (verb) => {
    setAsk(null);
    setBusy(verb);
    const p = instPath(inst.kind, inst.name);
    try {
      if (verb === 'remove') await api('DELETE', p);
      else await api('POST', p + '/' + verb);
      toast(`${inst.name}: ${verb} done`);
    } catch (e) {
      toast(`${inst.name}: ${e.message}`, true);
    }
    setBusy(null);
    onDone && onDone(verb);
  };
  return (
    <div class={'actions' + (compact ? ' compact' : '')}>
      {Object.entries(ACTIONS).map(([verb, a]) => {
        const can = a.when.includes(inst.state);
        return (
          <button key={verb} class={'act act-' + verb} disabled={!can || !!busy} title={a.label}
            data-action={verb} onClick={() => (a.confirm ? setAsk(verb) : run(verb))}>
            {busy === verb ? '…' : a.label}
          </button>
        );
      })}
      {ask && (
        <Confirm title={`${ACTIONS[ask].label} ${inst.name}?`} danger={ACTIONS[ask].danger}
          text={`This ${ACTIONS[ask].confirm} the ${inst.kind === 'vm' ? 'VM' : 'container'} ${inst.name}` +
            (ask === 'remove' ? ' and deletes its state.' : '.')}
          action={ACTIONS[ask].label} onYes={() => run(ask)} onNo={() => setAsk(null)} />
      )}
    </div>
  );
}
