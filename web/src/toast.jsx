// Short messages in a corner: what an action did, or its error line.
import { useEffect, useState } from 'preact/hooks';

let push = null;

export function toast(text, error) {
  if (push) push({ text, error, id: Math.random() });
}

export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    push = (t) => {
      setItems((l) => [...l.slice(-3), t]);
      setTimeout(() => setItems((l) => l.filter((x) => x !== t)), t.error ? 8000 : 3000);
    };
    return () => { push = null; };
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {items.map((t) => <div key={t.id} class={'toast' + (t.error ? ' err' : '')}>{t.text}</div>)}
    </div>
  );
}
