// Links marked <a data-follow> are followed at once (the RP-initiated logout
// hand-off to the identity provider: a navigation, which the CSP's
// form-action, binding the sign-out form's redirects, does not govern).
export function initFollow() {
  const a = document.querySelector('a[data-follow]');
  if (a && a.href) window.location.assign(a.href);
}
