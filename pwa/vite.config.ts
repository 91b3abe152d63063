import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { VitePWA } from 'vite-plugin-pwa';

// The app is served by the Roundtable binary at /app/. The service worker precaches the shell
// (hashed JS and CSS, index.html, icons, manifest) and answers every navigation under /app/ with
// index.html, so the app opens with no network. API data is cached by the app itself in IndexedDB,
// per account, so signing out can clear exactly one account's data.
export default defineConfig({
  base: '/app/',
  plugins: [
    preact(),
    VitePWA({
      injectRegister: false,
      registerType: 'autoUpdate',
      filename: 'sw.js',
      manifestFilename: 'manifest.webmanifest',
      includeAssets: ['icons/*.png', 'icons/*.svg'],
      manifest: {
        id: '/app/',
        name: 'Roundtable',
        short_name: 'Roundtable',
        description: 'Your peer-learning cohort: sessions, duties, experiments and commitments.',
        start_url: '/app/',
        scope: '/app/',
        display: 'standalone',
        background_color: '#f7f5f0',
        theme_color: '#1f4e5f',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        navigateFallback: '/app/index.html',
        navigateFallbackAllowlist: [/^\/app\//],
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        importScripts: ['sync.js'],
      },
    }),
  ],
  // `npm run preview` (development only): the built app, with the API of a server running nearby.
  preview: { proxy: { '/api': process.env.ROUNDTABLE_API ?? 'http://127.0.0.1:8080' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
  },
});
