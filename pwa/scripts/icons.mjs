// Draws the app's icons (a round table with six seats) as PNG files, with no image library:
// run once with `node scripts/icons.mjs`; the output in public/icons/ is committed.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};

function draw(size, { maskable }) {
  const bg = [0x1f, 0x4e, 0x5f], table = [0xf7, 0xf5, 0xf0], seat = [0xe0, 0xa4, 0x58];
  const rows = [];
  const c = size / 2;
  const scale = maskable ? 0.72 : 1; // maskable icons keep their drawing in the safe zone
  const corner = maskable ? 0 : size * 0.18;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      let px = [0, 0, 0, 0];
      // rounded square background
      const dx = Math.max(corner - x, 0, x - (size - 1 - corner)), dy = Math.max(corner - y, 0, y - (size - 1 - corner));
      if (dx * dx + dy * dy <= corner * corner) px = [...bg, 255];
      const r = Math.hypot(x - c, y - c);
      if (r < size * 0.24 * scale) px = [...table, 255];
      for (let i = 0; i < 6; i++) {
        const a = (i * Math.PI) / 3 - Math.PI / 2;
        const sx = c + Math.cos(a) * size * 0.36 * scale, sy = c + Math.sin(a) * size * 0.36 * scale;
        if (Math.hypot(x - sx, y - sy) < size * 0.075 * scale) px = [...seat, 255];
      }
      px.forEach((v, k) => (row[1 + x * 4 + k] = v));
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; // 8-bit RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

writeFileSync('public/icons/icon-192.png', draw(192, { maskable: false }));
writeFileSync('public/icons/icon-512.png', draw(512, { maskable: false }));
writeFileSync('public/icons/maskable-512.png', draw(512, { maskable: true }));
const seats = Array.from({ length: 6 }, (_, i) => {
  const a = (i * Math.PI) / 3 - Math.PI / 2;
  return `<circle cx="${(32 + Math.cos(a) * 23).toFixed(1)}" cy="${(32 + Math.sin(a) * 23).toFixed(1)}" r="4.8" fill="#e0a458"/>`;
}).join('');
writeFileSync('public/icons/icon.svg',
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="11.5" fill="#1f4e5f"/><circle cx="32" cy="32" r="15.4" fill="#f7f5f0"/>${seats}</svg>\n`);
