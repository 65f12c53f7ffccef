import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatCount } from '../format.ts';

interface Props {
  t: number[];
  n: number[];
  /** Dragging across the chart selects a range: seconds since epoch. */
  onZoom: (from: number, to: number) => void;
  dark: boolean;
  label: string;
}

/** Events per bucket as bars (uPlot: ~50 kB, canvas, fast on thousands of points). */
export function Histogram({ t, n, onZoom, dark, label }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const stroke = dark ? '#c9d1d9' : '#24292f';
    const grid = dark ? '#30363d' : '#d0d7de';
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 140,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke, grid: { stroke: grid }, ticks: { stroke: grid } },
        { stroke, grid: { stroke: grid }, ticks: { stroke: grid }, size: 60 },
      ],
      series: [
        {},
        {
          label: 'events',
          fill: dark ? 'rgba(88,166,255,0.6)' : 'rgba(9,105,218,0.55)',
          stroke: dark ? '#58a6ff' : '#0969da',
          paths: uPlot.paths.bars?.({ size: [0.9, 50] }),
          points: { show: false },
        },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoom.current(from, to);
          },
        ],
      },
    };
    plot.current = new uPlot(opts, [t, n], el);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: 140 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Re-created on theme change only; data updates go through setData below.
  }, [dark]);

  useEffect(() => {
    plot.current?.setData([t, n]);
  }, [t, n]);

  const total = n.reduce((a, b) => a + b, 0);
  return (
    <figure class="histogram">
      <div
        ref={host}
        role="img"
        aria-label={`${label}: ${formatCount(total)} events. Drag across the chart to zoom into a time range.`}
      />
      <figcaption class="muted">{label} · drag to zoom</figcaption>
    </figure>
  );
}
