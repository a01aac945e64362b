// Hand-rolled SVG sparklines and graphs: fixed viewBox and size, so that
// streaming data never moves the layout.

export function Spark({ values, max, w = 96, h = 24, cls = '' }) {
  const v = values.filter((x) => x != null);
  const top = Math.max(max || 0, ...v, 1e-9);
  let d = '';
  const n = Math.max(values.length - 1, 1);
  values.forEach((x, i) => {
    if (x == null) return;
    const px = (i / n) * w, py = h - 1 - (x / top) * (h - 2);
    d += (d ? 'L' : 'M') + px.toFixed(1) + ' ' + py.toFixed(1);
  });
  return (
    <svg class={"spark " + cls} viewBox={`0 0 ${w} ${h}`} width={w} height={h} preserveAspectRatio="none" aria-hidden="true">
      {d && <path d={d + `L${w} ${h}L0 ${h}Z`} class="area" />}
      {d && <path d={d} class="line" />}
    </svg>
  );
}

// A larger graph with a title, the latest value and a faint grid.
export function Graph({ title, values, max, fmt, cls }) {
  const last = [...values].reverse().find((x) => x != null);
  return (
    <div class="graph card">
      <div class="graph-head"><span>{title}</span><b class="mono">{last == null ? '–' : fmt(last)}</b></div>
      <Spark values={values} max={max} w={300} h={72} cls={cls} />
    </div>
  );
}
