// The lightcurve plot drawn into an RGBA raster (for PNG): the same geometry as the SVG, with
// text from the built-in 3x5 bitmap font drawn at 2x (upper case).
import { GLYPH_HEIGHT, textPixels, textWidth } from './plot-font.ts';
import type { PlotModel } from './plot-model.ts';
import type { RgbaImage } from './png.ts';

type Rgb = readonly [number, number, number];

/** `#rrggbb` → [r, g, b]. */
export function parseHexColour(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1] as string, 16), parseInt(m[2] as string, 16), parseInt(m[3] as string, 16)];
}

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [230, 230, 230];
const TEXT_SCALE = 2;

class Canvas {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.pixels = new Uint8Array(width * height * 4).fill(255);
  }

  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const at = (yi * this.width + xi) * 4;
    this.pixels[at] = c[0];
    this.pixels[at + 1] = c[1];
    this.pixels[at + 2] = c[2];
    this.pixels[at + 3] = 255;
  }

  /** A 1-pixel line (Bresenham-like stepping along the longer axis). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= steps; i++) this.set(x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps, c);
  }

  disc(cx: number, cy: number, r: number, c: Rgb, filled: boolean): void {
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) {
        const d = Math.hypot(dx, dy);
        if (filled ? d <= r : d <= r && d > r - 1.2) this.set(cx + dx, cy + dy, c);
      }
    }
  }

  /** Text with its top-left corner at (x, y). */
  text(x: number, y: number, text: string, c: Rgb): void {
    for (const [px, py] of textPixels(text)) {
      for (let sy = 0; sy < TEXT_SCALE; sy++) for (let sx = 0; sx < TEXT_SCALE; sx++) this.set(x + px * TEXT_SCALE + sx, y + py * TEXT_SCALE + sy, c);
    }
  }

  /** Text rotated 90° anticlockwise (reads upwards), its centre at (cx, cy). */
  verticalText(cx: number, cy: number, text: string, c: Rgb): void {
    const w = textWidth(text) * TEXT_SCALE;
    for (const [px, py] of textPixels(text)) {
      for (let sy = 0; sy < TEXT_SCALE; sy++) {
        for (let sx = 0; sx < TEXT_SCALE; sx++) this.set(cx - (GLYPH_HEIGHT * TEXT_SCALE) / 2 + py * TEXT_SCALE + sy, cy + w / 2 - (px * TEXT_SCALE + sx), c);
      }
    }
  }
}

/** Rasterises a plot: grid, axes, ticks and labels, error bars, points (forced ones as rings), legend. */
export function plotToRaster(model: PlotModel): RgbaImage {
  const { area } = model;
  const canvas = new Canvas(model.width, model.height);
  const glyphH = GLYPH_HEIGHT * TEXT_SCALE;
  for (const t of model.xTicks) canvas.line(t.position, area.top, t.position, area.bottom, GRID);
  for (const t of model.yTicks) canvas.line(area.left, t.position, area.right, t.position, GRID);
  canvas.line(area.left, area.top, area.right, area.top, BLACK);
  canvas.line(area.left, area.bottom, area.right, area.bottom, BLACK);
  canvas.line(area.left, area.top, area.left, area.bottom, BLACK);
  canvas.line(area.right, area.top, area.right, area.bottom, BLACK);
  for (const t of model.xTicks) {
    canvas.line(t.position, area.bottom, t.position, area.bottom + 5, BLACK);
    canvas.text(t.position - (textWidth(t.label) * TEXT_SCALE) / 2, area.bottom + 9, t.label, BLACK);
  }
  for (const t of model.yTicks) {
    canvas.line(area.left - 5, t.position, area.left, t.position, BLACK);
    canvas.text(area.left - 8 - textWidth(t.label) * TEXT_SCALE, t.position - glyphH / 2, t.label, BLACK);
  }
  canvas.text((area.left + area.right) / 2 - (textWidth(model.xLabel) * TEXT_SCALE) / 2, model.height - 18, model.xLabel, BLACK);
  canvas.verticalText(14, (area.top + area.bottom) / 2, model.yLabel, BLACK);
  canvas.text(area.left, 14, model.title, BLACK);
  for (const s of model.series) {
    const colour = parseHexColour(s.colour);
    for (const p of s.points) if (p.yLow !== p.yHigh) canvas.line(p.x, p.yLow, p.x, p.yHigh, colour);
  }
  for (const s of model.series) {
    const colour = parseHexColour(s.colour);
    for (const p of s.points) canvas.disc(p.x, p.y, p.forced ? 2.5 : 3.5, colour, !p.forced);
  }
  model.series.forEach((s, i) => {
    const y = area.top + 12 + i * 18;
    canvas.disc(area.right + 20, y, 4, parseHexColour(s.colour), true);
    canvas.text(area.right + 30, y - glyphH / 2, s.band, BLACK);
  });
  const note = area.top + 16 + model.series.length * 18;
  canvas.disc(area.right + 20, note, 3.5, BLACK, true);
  canvas.text(area.right + 30, note - glyphH / 2, 'DET', BLACK);
  canvas.disc(area.right + 20, note + 18, 2.5, BLACK, false);
  canvas.text(area.right + 30, note + 18 - glyphH / 2, 'FORCED', BLACK);
  return { width: model.width, height: model.height, pixels: canvas.pixels };
}
