// States over time as an inline SVG stacked bar chart: one bar per finished sweep, oldest on the left.
import { STATES } from './view.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 220;
const MARGIN = { top: 10, right: 10, bottom: 28, left: 44 };

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
}

/** Draws sweeps (newest first, as the API lists them) into container, replacing what was there. */
export function drawStatesOverTime(container, sweeps) {
  const points = sweeps.filter((s) => s.byState && s.startedAt && s.status !== 'Queued').slice().reverse();
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart',
    'aria-label': 'Devices by state per sweep',
  });
  if (points.length === 0) {
    chart.append(svg('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'No sweeps yet'));
    container.replaceChildren(chart);
    return;
  }

  const totals = points.map((p) => STATES.reduce((sum, state) => sum + (p.byState[state] ?? 0), 0));
  const top = niceMax(Math.max(...totals));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / points.length;
  const barWidth = Math.max(2, Math.min(40, slot * 0.7));
  const y = (count) => MARGIN.top + plotHeight - (count / top) * plotHeight;

  for (const tick of [0, top / 2, top]) {
    chart.append(
      svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick), class: 'chart-grid' }),
      svg('text', { x: MARGIN.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'chart-axis' }, String(tick)),
    );
  }

  points.forEach((point, index) => {
    const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
    const bar = svg('g', { class: 'chart-bar', 'data-sweep': point.id });
    let base = 0;
    for (const state of STATES) {
      const count = point.byState[state] ?? 0;
      if (count === 0) continue;
      const rect = svg('rect', {
        x, width: barWidth, y: y(base + count), height: Math.max(0.5, y(base) - y(base + count)),
        class: `fill-${state}`,
      });
      rect.append(svg('title', {}, `${new Date(point.startedAt).toLocaleString()} · ${state}: ${count}`));
      bar.append(rect);
      base += count;
    }
    chart.append(bar);
  });

  const first = new Date(points[0].startedAt).toLocaleString();
  const last = new Date(points[points.length - 1].startedAt).toLocaleString();
  chart.append(
    svg('text', { x: MARGIN.left, y: HEIGHT - 8, class: 'chart-axis' }, first),
    svg('text', { x: WIDTH - MARGIN.right, y: HEIGHT - 8, 'text-anchor': 'end', class: 'chart-axis' }, last),
  );
  container.replaceChildren(chart);
}

export function legend(container) {
  container.replaceChildren(...STATES.map((state) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch fill-${state}`;
    item.append(swatch, state);
    return item;
  }));
}
