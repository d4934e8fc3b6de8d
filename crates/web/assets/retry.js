// Auto-retry on "temporarily unavailable" pages: <span data-retry="30"> counts
// down and the page reloads at zero.
export function initRetry() {
  const el = document.querySelector('[data-retry]');
  if (!el) return;
  let left = Number(el.dataset.retry) || 30;
  const tick = () => {
    el.textContent = String(left);
    if (left <= 0) {
      window.location.reload();
      return;
    }
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}
