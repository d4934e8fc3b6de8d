// Expiry countdowns: <time data-expires="<epoch ms>"> shows "in 4:59", then "expired".
function render(el, now) {
  const left = Math.max(0, Number(el.dataset.expires) - now);
  if (left === 0) {
    el.textContent = 'expired';
    return false;
  }
  const s = Math.floor(left / 1000);
  el.textContent = `in ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return true;
}

export function initCountdowns() {
  const els = [...document.querySelectorAll('time[data-expires]')];
  if (els.length === 0) return;
  const tick = () => {
    const now = Date.now();
    const live = els.filter((el) => render(el, now));
    if (live.length > 0) setTimeout(tick, 1000);
  };
  tick();
}
