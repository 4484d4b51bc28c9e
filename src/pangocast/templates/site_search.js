/* Pangocast site search: a small interface over Pagefind's bundle (pagefind/pagefind.js,
 * built with the site). Plain JavaScript, no inline script needed.
 *
 *   form[data-search="../../pagefind/"][data-root="../../"]   the search box
 *     data-none / data-count / data-failed                     the catalogue's texts
 *   [data-search-results]                                      where the hits are listed
 *
 * Every transcript caption on an episode page is <span id="cue-N-at-MILLISECONDS">, which
 * Pagefind keeps as an anchor with its word position. A hit is shown as the caption it
 * falls in and links to episodes/SLUG/#t=SECONDS; following it leaves a note in
 * sessionStorage that tells the player (player.js) to start playing there.
 */
(function () {
  "use strict";

  var PLAY_KEY = "pangocast:play";
  var CUE = /^cue-\d+-at-(\d+)$/;
  var MAX_PAGES = 10;
  var MAX_HITS = 5;

  function clock(seconds) {
    var s = Math.floor(seconds);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var rest = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + rest : m + ":" + rest;
  }

  /* The hits of one result, in page order: the caption each matched word falls in (once
   * each), and one hit for words outside the transcript (title, summary, notes). */
  function hitsOf(data, terms) {
    var anchors = (data.anchors || []).slice().sort(function (a, b) {
      return a.location - b.location;
    });
    var locations = (data.locations || []).slice().sort(function (a, b) {
      return a - b;
    });
    var seen = {};
    var hits = [];
    locations.forEach(function (loc) {
      var anchor = null;
      for (var i = 0; i < anchors.length && anchors[i].location <= loc; i++) {
        anchor = anchors[i];
      }
      var cue = anchor ? CUE.exec(anchor.id) : null;
      var key = cue ? anchor.id : "";
      if (seen[key]) {
        return;
      }
      seen[key] = true;
      hits.push({
        time: cue ? parseInt(cue[1], 10) / 1000 : null,
        text: cue ? anchor.text : null,
      });
    });
    // Pagefind matches a query word as a prefix, and the browser may cut a Chinese query
    // finer than the index was cut ("开源" -> "开", "源"): captions that hold none of the
    // words typed are dropped when others hold them.
    function says(hit) {
      var text = (hit.text || "").toLowerCase();
      return terms.some(function (term) {
        return text.indexOf(term) >= 0;
      });
    }
    var cues = hits.filter(function (hit) {
      return hit.time !== null;
    });
    if (cues.some(says)) {
      hits = hits.filter(function (hit) {
        return hit.time === null || says(hit);
      });
    }
    return hits;
  }

  /* Text of Pagefind's excerpt (HTML with <mark>), parsed inertly. */
  function plain(html) {
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent || "";
  }

  /* ``text`` as nodes, each occurrence of a query term in a <mark>. */
  function marked(text, terms) {
    var out = document.createDocumentFragment();
    var lower = text.toLowerCase();
    var at = 0;
    while (at < text.length) {
      var next = -1;
      var length = 0;
      terms.forEach(function (term) {
        var i = lower.indexOf(term, at);
        if (i >= 0 && (next < 0 || i < next)) {
          next = i;
          length = term.length;
        }
      });
      if (next < 0) {
        break;
      }
      out.appendChild(document.createTextNode(text.slice(at, next)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(next, next + length);
      out.appendChild(mark);
      at = next + length;
    }
    out.appendChild(document.createTextNode(text.slice(at)));
    return out;
  }

  function setup(form) {
    var input = form.querySelector("input[type=search]");
    var box = document.querySelector("[data-search-results]");
    if (!input || !box) {
      return;
    }
    form.hidden = false;
    var root = form.getAttribute("data-root") || "./";
    var bundle = new URL(form.getAttribute("data-search"), document.baseURI).href;
    var loading = null;

    function pagefind() {
      if (!loading) {
        loading = import(bundle + "pagefind.js");
      }
      return loading;
    }

    function status(text) {
      var p = document.createElement("p");
      p.className = "search-status";
      p.textContent = text;
      return p;
    }

    function render(query, results) {
      var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
      box.textContent = "";
      box.hidden = false;
      if (!results.length) {
        box.appendChild(status(form.getAttribute("data-none") || "No results"));
        return;
      }
      var count = form.getAttribute("data-count") || "{count}";
      box.appendChild(status(count.replace("{count}", String(results.length))));
      var list = document.createElement("ol");
      list.className = "search-list";
      results.forEach(function (data) {
        var page = root + String(data.url || "").replace(/^\//, "");
        var item = document.createElement("li");
        item.className = "search-result";
        var title = document.createElement("a");
        title.className = "search-title";
        title.href = page;
        title.textContent = (data.meta && data.meta.title) || data.url;
        item.appendChild(title);
        var hits = document.createElement("ul");
        hits.className = "search-hits";
        hitsOf(data, terms).slice(0, MAX_HITS).forEach(function (hit) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.className = "search-hit";
          if (hit.time !== null) {
            a.href = page + "#t=" + hit.time;
            a.setAttribute("data-play", "");
            var time = document.createElement("span");
            time.className = "at";
            time.textContent = clock(hit.time);
            a.appendChild(time);
            a.appendChild(document.createTextNode(" "));
          } else {
            a.href = page;
          }
          var text = document.createElement("span");
          text.className = "cue-text";
          text.appendChild(marked(hit.text || plain(data.excerpt), terms));
          a.appendChild(text);
          li.appendChild(a);
          hits.appendChild(li);
        });
        item.appendChild(hits);
        list.appendChild(item);
      });
      box.appendChild(list);
    }

    var asked = 0;
    function run() {
      var query = input.value.trim();
      var mine = ++asked;
      if (!query) {
        box.hidden = true;
        box.textContent = "";
        return;
      }
      pagefind()
        .then(function (pf) {
          return pf.debouncedSearch(query, {}, 150);
        })
        .then(function (search) {
          if (!search || mine !== asked) {
            return null; // a newer query is on its way
          }
          return Promise.all(
            search.results.slice(0, MAX_PAGES).map(function (r) {
              return r.data();
            })
          );
        })
        .then(function (results) {
          if (results && mine === asked) {
            render(query, results);
          }
        })
        .catch(function () {
          box.textContent = "";
          box.hidden = false;
          box.appendChild(status(form.getAttribute("data-failed") || "Search is unavailable"));
        });
    }

    input.addEventListener("input", run);
    input.addEventListener("focus", function () {
      pagefind().catch(function () {
        /* reported when a search is made */
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        input.value = "";
        run();
      }
    });

    box.addEventListener("click", function (event) {
      var target = event.target;
      var a = target instanceof Element ? target.closest("a[data-play]") : null;
      if (!a) {
        return;
      }
      var url = new URL(a.getAttribute("href"), document.baseURI);
      try {
        window.sessionStorage.setItem(PLAY_KEY, url.href);
      } catch (e) {
        /* no storage: the link still sets the position */
      }
      if (url.href === window.location.href) {
        // the same fragment again: no hashchange would fire
        event.preventDefault();
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      }
    });
  }

  function start() {
    Array.prototype.slice.call(document.querySelectorAll("form[data-search]")).forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
