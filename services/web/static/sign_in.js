// A sign-in link carries its token in the fragment, which never leaves the browser: post it
// once, then forget it (the address bar and history keep the page without it).
(function () {
  "use strict";
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  const form = document.getElementById("sign-in");
  form.elements.token.value = decodeURIComponent(match[1]);
  form.submit();
})();
