// Theme toggle: the system's choice (prefers-color-scheme) until the user picks
// one, which is kept in localStorage and applied before first paint by the
// page's nonce'd head script.
const KEY = 'portal-theme';

function current() {
  const set = document.documentElement.dataset.theme;
  if (set === 'light' || set === 'dark') return set;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function label(button) {
  const next = current() === 'dark' ? 'light' : 'dark';
  button.setAttribute('aria-label', `Switch to ${next} theme`);
  button.textContent = next === 'dark' ? 'Dark theme' : 'Light theme';
}

export function initTheme() {
  const button = document.getElementById('theme-toggle');
  if (!button) return;
  button.hidden = false;
  label(button);
  button.addEventListener('click', () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem(KEY, next); } catch { /* private mode: this page only */ }
    label(button);
  });
}
