// A modal dialog and the confirmation built on it.
import { useEffect, useRef } from 'preact/hooks';

export function Dialog({ title, onClose, children, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d && d.open && d.close();
  }, []);
  return (
    <dialog ref={ref} class={'dlg' + (wide ? ' wide' : '')} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <header><h2>{title}</h2><button class="ghost icon" aria-label="Close" onClick={onClose}>×</button></header>
      {children}
    </dialog>
  );
}

export function Confirm({ title, text, action, danger, onYes, onNo }) {
  return (
    <Dialog title={title} onClose={onNo}>
      <p class="confirm-text">{text}</p>
      <footer>
        <button class="ghost" onClick={onNo}>Cancel</button>
        <button class={danger ? 'danger' : 'primary'} data-testid="confirm" autofocus onClick={onYes}>{action}</button>
      </footer>
    </Dialog>
  );
}
