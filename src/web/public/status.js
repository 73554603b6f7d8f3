/* global document */
// The status page refreshes its panel every 5 seconds while the tab is visible.
import { makeAllSortable } from './table-sort.js';

const panel = document.getElementById('status-panel');
async function refresh() {
  if (document.hidden) return;
  try {
    const response = await fetch('/status/panel', { credentials: 'same-origin' });
    if (response.ok) {
      panel.innerHTML = await response.text();
      makeAllSortable(panel);
    }
  } catch {
    // Offline for a moment: the next tick tries again.
  }
}
makeAllSortable(panel);
setInterval(refresh, 5000);
document.addEventListener('visibilitychange', refresh);
