import { render } from 'preact';
import { App } from './app';
import { startReplaying } from './data/queue';
import './styles.css';

render(<App />, document.getElementById('app')!);

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
}
startReplaying();

const net = () => {
  const el = document.getElementById('net');
  if (el) el.textContent = navigator.onLine ? '' : 'Offline';
};
window.addEventListener('online', net);
window.addEventListener('offline', net);
net();
