// Copy buttons: <button data-copy="#id" hidden> copies that element's text
// (a secret shown once); shown only where the clipboard is available.
export function initCopy() {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const target = document.querySelector(button.dataset.copy);
    if (!target) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(target.textContent.trim());
        button.textContent = 'Copied';
      } catch {
        button.textContent = 'Copy failed: select the text';
      }
    });
  }
}
