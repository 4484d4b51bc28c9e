/* Pangocast read-along player. Plain JavaScript, no framework, no inline script needed.
 *
 * The page marks what it drives with data- attributes:
 *   audio[data-player]           the episode's audio
 *   [data-seek="12.5"]           a click (or Enter/Space on a button) plays from 12.5 s
 *   [data-stop="40"]             ... and, beside data-seek, pauses at 40 s (a soundbite)
 *   [data-turn][data-start]      transcript turns, highlighted while they play
 *   [data-chapter][data-start]   chapters, highlighted while they play
 *   [data-follow]                checkbox: keep the current turn scrolled into view
 *   [data-copy="id"]             copies the value of the field with that id
 * A "#t=90" fragment in the address starts the audio at 90 s; Media Fragments
 * ("#t=90,105", "#t=npt:1:30", "#t=,20") also stop it at the end of the span. When the
 * address is the one a search hit (search.js) left in sessionStorage ("pangocast:play"),
 * the audio also starts playing there, on this page or the page the hit opened.
 */
(function () {
  "use strict";

  function toArray(list) {
    return Array.prototype.slice.call(list);
  }

  /* Index of the last item whose start is <= t, or -1. */
  function indexAt(starts, t) {
    var lo = 0;
    var hi = starts.length - 1;
    var found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t + 0.001) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  function Marker(elements, scroll) {
    this.elements = elements;
    this.starts = elements.map(function (el) {
      return parseFloat(el.getAttribute("data-start")) || 0;
    });
    this.current = -1;
    this.scroll = scroll;
  }

  Marker.prototype.update = function (t, playing) {
    var i = indexAt(this.starts, t);
    if (i === this.current) {
      return;
    }
    if (this.current >= 0) {
      this.elements[this.current].classList.remove("current");
      this.elements[this.current].removeAttribute("aria-current");
    }
    this.current = i;
    if (i >= 0) {
      var el = this.elements[i];
      el.classList.add("current");
      el.setAttribute("aria-current", "true");
      if (playing && this.scroll && this.scroll()) {
        var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
        el.scrollIntoView({ block: "nearest", behavior: reduce ? "auto" : "smooth" });
      }
    }
  };

  function setupPlayer(audio) {
    var follow = document.querySelector("[data-follow]");
    if (follow && follow.parentElement) {
      follow.parentElement.hidden = false;
    }
    var turns = new Marker(toArray(document.querySelectorAll("[data-turn]")), function () {
      return follow ? follow.checked : false;
    });
    var chapters = new Marker(toArray(document.querySelectorAll("[data-chapter]")), null);

    function update() {
      var playing = !audio.paused;
      turns.update(audio.currentTime, playing);
      chapters.update(audio.currentTime, playing);
    }

    function seek(t) {
      if (!isFinite(t) || t < 0) {
        return;
      }
      audio.currentTime = t;
      update();
      var played = audio.play();
      if (played && played.catch) {
        played.catch(function () {
          /* Autoplay refused: the position is set, the listener presses play. */
        });
      }
    }

    ["timeupdate", "seeked", "loadedmetadata", "play", "pause"].forEach(function (name) {
      audio.addEventListener(name, update);
    });

    document.addEventListener("click", function (event) {
      var target = event.target;
      if (!(target instanceof Element)) {
        return;
      }
      var el = target.closest("[data-seek]");
      if (!el || target.closest("a, input, textarea, select, audio")) {
        return;
      }
      // A click that ends a text selection is the reader copying, not seeking.
      var selection = window.getSelection ? String(window.getSelection()) : "";
      if (selection && !target.closest("button")) {
        return;
      }
      seek(parseFloat(el.getAttribute("data-seek")));
      // a soundbite's button plays just the clip
      var stop = el.getAttribute("data-stop");
      stopAt = stop ? parseFloat(stop) : null;
    });

    /* Seconds of a Media Fragments time: "90", "90.5", "1:30", "0:01:30", "npt:90". */
    function clock(text) {
      if (!text) {
        return null;
      }
      var parts = text.replace(/^npt:/, "").split(":");
      var seconds = 0;
      for (var i = 0; i < parts.length; i++) {
        var n = parseFloat(parts[i]);
        if (isNaN(n)) {
          return null;
        }
        seconds = seconds * 60 + n;
      }
      return seconds;
    }

    var stopAt = null;
    audio.addEventListener("timeupdate", function () {
      if (stopAt !== null && audio.currentTime >= stopAt) {
        stopAt = null;
        audio.pause();
      }
    });

    /* True once when a search hit asked to play the current address. */
    function playRequested() {
      try {
        var wanted = window.sessionStorage.getItem("pangocast:play");
        if (wanted && wanted === window.location.href) {
          window.sessionStorage.removeItem("pangocast:play");
          return true;
        }
      } catch (e) {
        /* no storage (a sandboxed frame): positioning only */
      }
      return false;
    }

    function fromHash() {
      var m = /(?:^#|&)t=((?:npt:)?[\d:.]*)(?:,([\d:.]+))?/.exec(window.location.hash);
      if (!m) {
        return;
      }
      var start = clock(m[1]);
      var end = clock(m[2]);
      var play = playRequested();
      if (start !== null && play) {
        seek(start);
      } else if (start !== null) {
        audio.currentTime = start;
      }
      stopAt = end !== null && end > (start || 0) ? end : null;
      update();
    }
    window.addEventListener("hashchange", fromHash);
    fromHash();
    update();
  }

  function setupCopy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    button.hidden = false;
    var section = button.closest("section");
    var status = section ? section.querySelector(".copy-status") : null;
    button.addEventListener("click", function () {
      function done(ok) {
        if (status) {
          // the page's language: data-copied / data-copy-failed carry the catalogue's text
          status.textContent = status.getAttribute(ok ? "data-copied" : "data-copy-failed") ||
            (ok ? "Copied" : "Press Ctrl+C to copy");
        }
      }
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () {
          done(true);
        }, function () {
          done(false);
        });
      } else {
        var ok = false;
        try {
          ok = document.execCommand("copy");
        } catch (e) {
          ok = false;
        }
        done(ok);
      }
    });
  }

  function start() {
    var audio = document.querySelector("audio[data-player]");
    if (audio) {
      setupPlayer(audio);
    }
    toArray(document.querySelectorAll("[data-copy]")).forEach(setupCopy);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
