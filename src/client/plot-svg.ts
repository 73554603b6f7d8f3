// The lightcurve plot as hand-written SVG text.
import type { PlotModel } from './plot-model.ts';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** SVG document of a plot: grid, axes with tick labels, error bars, one <circle> per point, legend. */
export function plotToSvg(model: PlotModel): string {
  const { width, height, area } = model;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${r1((area.left + area.right) / 2)}" y="22" text-anchor="middle" font-size="14">${escapeXml(model.title)}</text>`);
  out.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of model.xTicks) out.push(`<line x1="${r1(t.position)}" y1="${area.top}" x2="${r1(t.position)}" y2="${area.bottom}"/>`);
  for (const t of model.yTicks) out.push(`<line x1="${area.left}" y1="${r1(t.position)}" x2="${area.right}" y2="${r1(t.position)}"/>`);
  out.push('</g>');
  out.push(`<rect class="axes" x="${area.left}" y="${area.top}" width="${area.right - area.left}" height="${area.bottom - area.top}" fill="none" stroke="#000000"/>`);
  out.push('<g class="ticks" stroke="#000000">');
  for (const t of model.xTicks) out.push(`<line x1="${r1(t.position)}" y1="${area.bottom}" x2="${r1(t.position)}" y2="${area.bottom + 5}"/>`);
  for (const t of model.yTicks) out.push(`<line x1="${area.left - 5}" y1="${r1(t.position)}" x2="${area.left}" y2="${r1(t.position)}"/>`);
  out.push('</g>');
  for (const t of model.xTicks) out.push(`<text x="${r1(t.position)}" y="${area.bottom + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  for (const t of model.yTicks) out.push(`<text x="${area.left - 8}" y="${r1(t.position + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  out.push(`<text x="${r1((area.left + area.right) / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(model.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${r1((area.top + area.bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(model.yLabel)}</text>`);
  for (const s of model.series) {
    out.push(`<g class="band" data-band="${escapeXml(s.band)}" stroke="${s.colour}" fill="${s.colour}">`);
    for (const p of s.points) {
      if (p.yLow !== p.yHigh) out.push(`<line x1="${r1(p.x)}" y1="${r1(p.yLow)}" x2="${r1(p.x)}" y2="${r1(p.yHigh)}" stroke-opacity="0.6"/>`);
    }
    for (const p of s.points) {
      out.push(p.forced ? `<circle class="forced" cx="${r1(p.x)}" cy="${r1(p.y)}" r="2.5" fill="none"/>` : `<circle class="detection" cx="${r1(p.x)}" cy="${r1(p.y)}" r="3.5"/>`);
    }
    out.push('</g>');
  }
  out.push('<g class="legend">');
  model.series.forEach((s, i) => {
    const y = area.top + 12 + i * 18;
    out.push(`<circle cx="${area.right + 20}" cy="${y}" r="4" fill="${s.colour}"/>`);
    out.push(`<text x="${area.right + 30}" y="${y + 4}">${escapeXml(s.band)}</text>`);
  });
  const note = model.series.length * 18 + area.top + 16;
  out.push(`<circle cx="${area.right + 20}" cy="${note}" r="3.5" fill="#000000"/><text x="${area.right + 30}" y="${note + 4}">det</text>`);
  out.push(`<circle cx="${area.right + 20}" cy="${note + 18}" r="2.5" fill="none" stroke="#000000"/><text x="${area.right + 30}" y="${note + 22}">forced</text>`);
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
