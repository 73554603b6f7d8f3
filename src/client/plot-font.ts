// A 3x5 pixel bitmap font (digits, upper-case letters, a little punctuation) for text in
// rasterised plots. Each glyph is five rows of three bits, top row first.
const GLYPHS: Readonly<Record<string, string>> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111',
  '4': '101101111001001', '5': '111100111001111', '6': '111100111101111', '7': '111001010010010',
  '8': '111101111101111', '9': '111101111001111', '.': '000000000000010', '-': '000000111000000',
  '+': '000010111010000', '(': '010100100100010', ')': '010001001001010', ' ': '000000000000000',
  ':': '000010000010000', '/': '001001010100100', '_': '000000000000111',
  A: '010101111101101', B: '110101110101110', C: '011100100100011', D: '110101101101110',
  E: '111100110100111', F: '111100110100100', G: '011100101101011', H: '101101111101101',
  I: '111010010010111', J: '001001001101010', K: '101101110101101', L: '100100100100111',
  M: '101111111101101', N: '110101101101101', O: '010101101101010', P: '110101110100100',
  Q: '010101101110011', R: '110101110101101', S: '011100010001110', T: '111010010010010',
  U: '101101101101111', V: '101101101101010', W: '101101111111101', X: '101101010101101',
  Y: '101101010010010', Z: '111001010100111',
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** Pixels to set for a text drawn at scale 1: [x, y] offsets from the top-left corner. Unknown characters draw as blanks. */
export function textPixels(text: string): Array<[number, number]> {
  const pixels: Array<[number, number]> = [];
  [...text.toUpperCase()].forEach((ch, i) => {
    const glyph = GLYPHS[ch];
    if (glyph === undefined) return;
    for (let bit = 0; bit < glyph.length; bit++) {
      if (glyph[bit] === '1') pixels.push([i * (GLYPH_WIDTH + 1) + (bit % GLYPH_WIDTH), Math.floor(bit / GLYPH_WIDTH)]);
    }
  });
  return pixels;
}

/** Width in pixels of a text at scale 1. */
export function textWidth(text: string): number {
  return text.length === 0 ? 0 : text.length * (GLYPH_WIDTH + 1) - 1;
}
