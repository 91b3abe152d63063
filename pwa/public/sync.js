// Loaded into the service worker (workbox importScripts). Where the browser has Background Sync,
// a queued write registers the 'replay' tag; when the network returns the worker asks every open
// window of the app to replay its queue (the windows hold the sign-in, the worker does not).
self.addEventListener('sync', (event) => {
  if (event.tag !== 'replay') return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((clients) => {
      for (const client of clients) client.postMessage({ type: 'replay' });
    }),
  );
});
