// Hand-rolled SVG sparklines and graphs: fixed viewBox and size, so that
// streaming data never moves the layout.

// values: the last samples, oldest first (null: none); drawn right-aligned
// on a fixed grid of `slots`, so that the line grows from the right and
// never rescales sideways. The vertical scale: `max`, or the largest value
// with a quarter of headroom, never under `floor`.
export function Spark({ values, max, floor = 0, slots = 60, w = 96, h = 24, cls = '' }) {
  const vs = values.slice(-slots);
  const top = max || Math.max(floor, ...vs.filter((x) => x != null).map((x) => x * 1.25), 1e-9);
  let d = '', first = null, last = null, n = 0;
  vs.forEach((x, i) => {
    if (x == null) return;
    const px = ((slots - vs.length + i) / (slots - 1)) * w;
    const py = h - 1 - (Math.min(x, top) / top) * (h - 2);
    d += (d ? 'L' : 'M') + px.toFixed(1) + ' ' + py.toFixed(1);
    if (first == null) first = px;
    last = px;
    n++;
  });
  if (n < 2) d = ''; // one point is no line yet
  return (
    <svg class={'spark ' + cls} viewBox={`0 0 ${w} ${h}`} width={w} height={h} preserveAspectRatio="none" aria-hidden="true">
      <path d={`M0 ${h - 0.5}H${w}`} class="base" />
      {d && <path d={`${d}L${last.toFixed(1)} ${h}L${first.toFixed(1)} ${h}Z`} class="area" />}
      {d && <path d={d} class="line" />}
    </svg>
  );
}

// A larger graph with a title and the latest value; a figure the server
// does not report (samples, none with it) says so in the graph's place.
export function Graph({ title, values, max, floor, fmt, cls }) {
  const last = [...values].reverse().find((x) => x != null);
  const unreported = values.length >= 3 && last == null;
  return (
    <div class="graph card">
      <div class="graph-head"><span>{title}</span><b class="mono">{last == null ? '–' : fmt(last)}</b></div>
      {unreported ? <div class="unreported dim">not reported for this instance</div>
        : <Spark values={values} max={max} floor={floor} w={300} h={72} cls={cls} />}
    </div>
  );
}
