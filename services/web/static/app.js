// workledger's workspace: keyboard shortcuts, live updates and time travel.
// Pages are whole without it; this makes them quick to move through and keeps them current.
(function () {
  "use strict";

  const body = document.body;
  const status = document.getElementById("live-status");
  const PART_HEADER = "X-Page-Part";

  // htmx swaps refusals too: a form shows "changed since you opened it" where it was sent.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const code = event.detail.xhr.status;
    if (code >= 400 && code < 600 && code !== 401) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Refreshing the page's main part: live updates, `r`, and the time slider.

  function mainUrl(extra) {
    const url = new URL(window.location.href);
    for (const [name, value] of Object.entries(extra || {})) {
      if (value === null) url.searchParams.delete(name);
      else url.searchParams.set(name, value);
    }
    return url;
  }

  function busy() {
    const main = document.getElementById("page");
    const active = document.activeElement;
    if (main && active && main.contains(active) && active.matches("input, textarea, select")) {
      return true;
    }
    return document.querySelector("form[data-dirty]") !== null;
  }

  let refreshing = false;
  let waiting = null;

  async function refresh(position) {
    if (refreshing) {
      waiting = Math.max(waiting || 0, position || 0);
      return;
    }
    refreshing = true;
    try {
      const extra = position ? { min_position: String(position) } : {};
      const answer = await fetch(mainUrl(extra), {
        headers: { [PART_HEADER]: "main" },
        credentials: "same-origin",
      });
      if (answer.status === 409) {
        // The views have not applied the position yet: ask again shortly.
        setTimeout(function () { refresh(position); }, 400);
        return;
      }
      if (!answer.ok) return;
      const main = document.getElementById("page");
      const focused = document.activeElement && document.activeElement.dataset
        ? document.activeElement.dataset.rowId : null;
      const place = rows().indexOf(document.activeElement);
      main.innerHTML = await answer.text();
      if (window.htmx) window.htmx.process(main);
      if (focused) {
        const again = main.querySelector('[data-row-id="' + CSS.escape(focused) + '"]');
        if (again) again.focus();
        else if (place >= 0) {
          // The focused row went away (an issue triaged, say): keep the place in the list.
          const left = rows();
          if (left.length) left[Math.min(place, left.length - 1)].focus();
        }
      }
      if (status) status.textContent = "Live · updated " + new Date().toLocaleTimeString();
      body.dataset.updated = String(position || "");
      main.dispatchEvent(new CustomEvent("workledger:updated", { bubbles: true }));
    } finally {
      refreshing = false;
      if (waiting !== null) {
        const next = waiting;
        waiting = null;
        refresh(next);
      }
    }
  }

  // Live: the log's events as they commit, on the page's own stream.
  let pending = null;
  let timer = null;

  function follow() {
    if (body.dataset.live !== "on" || !window.EventSource) return;
    const after = body.dataset.position;
    const source = new EventSource("/live" + (after ? "?after=" + encodeURIComponent(after) : ""));
    source.onmessage = function (message) {
      pending = Number(message.lastEventId) || pending;
      if (busy()) {
        if (status) status.textContent = "Live · new changes: press r to show them";
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(pending); }, 150);
    };
    source.onerror = function () {
      if (status) status.textContent = "Live · reconnecting…";
    };
    source.onopen = function () {
      if (status) status.textContent = "Live";
    };
  }

  // Time slider: days back from now; moving it shows the page as it was that day.
  function slider() {
    const range = document.querySelector("input[data-slider]");
    if (!range) return;
    const output = document.querySelector("output[for='" + range.id + "']");
    const now = new Date(range.dataset.now);
    function momentOf(daysBack) {
      const moment = new Date(now.getTime() - Number(daysBack) * 86400000);
      return moment.toISOString().slice(0, 16);
    }
    function describe() {
      const back = Number(range.value);
      if (output) output.textContent = back === 0 ? "now" : momentOf(back).replace("T", " ") + " UTC";
    }
    range.addEventListener("input", describe);
    range.addEventListener("change", function () {
      const back = Number(range.value);
      const target = mainUrl({ as_of: back === 0 ? null : momentOf(back) + "Z", min_position: null });
      window.location.assign(target.toString());
    });
    describe();
  }

  // Keyboard.
  const rows = () => Array.from(document.querySelectorAll("#page [data-row]"));

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(document.activeElement);
    const next = all[Math.min(all.length - 1, Math.max(0, index === -1 ? 0 : index + step))];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  let prefix = null;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const help = document.getElementById("help");
    if (event.key === "Escape") {
      if (help && help.open) help.close();
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    if (prefix === "g") {
      prefix = null;
      const link = document.querySelector('[data-go="g ' + event.key + '"]');
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    const focusedRow = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-row]") : null;
    if (focusedRow) {
      const action = focusedRow.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
      if (action) {
        event.preventDefault();
        if (action.matches("select, input")) action.focus();
        else action.click();
        return;
      }
      if (event.key === "Enter" && document.activeElement === focusedRow) {
        const open = focusedRow.querySelector("a[data-open], a");
        if (open) { event.preventDefault(); open.click(); }
        return;
      }
    }
    switch (event.key) {
      case "g": prefix = "g"; setTimeout(function () { prefix = null; }, 1500); break;
      case "/": {
        const search = document.getElementById("search");
        if (search) { event.preventDefault(); search.focus(); }
        break;
      }
      case "j": event.preventDefault(); move(1); break;
      case "k": event.preventDefault(); move(-1); break;
      case "r": event.preventDefault(); refresh(pending); break;
      case "?":
        if (help) { event.preventDefault(); help.open ? help.close() : help.showModal(); }
        break;
      default: break;
    }
  });

  document.addEventListener("click", function (event) {
    const opener = event.target.closest && event.target.closest("[data-help]");
    const help = document.getElementById("help");
    if (opener && help) help.showModal();
  });

  // A form being edited is not replaced under the person editing it.
  document.addEventListener("input", function (event) {
    const form = event.target.closest && event.target.closest("#page form[data-keep]");
    if (form) form.dataset.dirty = "";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.target.closest && event.target.closest("form");
    if (form && event.detail.successful) delete form.dataset.dirty;
  });

  // A page's own print button (the summaries): the browser's print dialog, no inline script.
  document.addEventListener("click", function (event) {
    const printer = event.target.closest && event.target.closest("[data-print]");
    if (printer) { event.preventDefault(); window.print(); }
  });

  // Leaving a row's control with Esc gives the focus back to its row, so the row's keys act
  // again (choose a priority with p, Esc, then t accepts).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    const row = event.target.closest("[data-row]");
    if (row && row !== event.target && event.target.matches("input, select, textarea")) {
      setTimeout(function () { row.focus(); }, 0);
    }
  }, true);

  // A link to one entry of a page's history (#entry-<position>) lands on it once the part
  // holding it has been loaded after the page.
  document.addEventListener("htmx:afterSettle", function () {
    const wanted = window.location.hash.slice(1);
    if (!wanted || body.dataset.landed === wanted) return;
    const target = document.getElementById(wanted);
    if (target) {
      body.dataset.landed = wanted;
      target.scrollIntoView({ block: "start" });
    }
  });

  follow();
  slider();
})();
