// Reloads the part of the page marked `live` every few seconds, without touching forms.
// Inlined into every page under the CSP nonce; the page works without it.
(function () {
  var live = document.getElementById('live');
  var mark = document.getElementById('refreshed');
  if (!live) return;
  setInterval(function () {
    if (document.hidden) return;
    fetch(location.href, { credentials: 'same-origin', headers: { 'X-Refresh': '1' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('live');
        if (fresh) live.innerHTML = fresh.innerHTML;
        if (mark) mark.textContent = 'updated ' + new Date().toLocaleTimeString();
      })
      .catch(function () { if (mark) mark.textContent = 'update failed, retrying'; });
  }, 5000);
})();
