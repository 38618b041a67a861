// What tests/test_site.py injects into a copy of a built site page before opening it in headless
// Chromium: it records resources that fail to load, waits for MathJax to finish, checks that the
// figures loaded, makes the first audio player load its file (the players say preload="none")
// and waits until it can play, then writes the results as JSON into a <pre id="course-report">,
// which chromium's --dump-dom returns.
(function () {
  var failed = [];
  // capture phase: load errors of <script>, <link>, <img> and <source> do not bubble
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (!target || target === window) return;
    failed.push((target.getAttribute("src") || target.getAttribute("href") || target.tagName).slice(0, 100));
  }, true);

  function report(data) {
    var pre = document.createElement("pre");
    pre.id = "course-report";
    pre.textContent = JSON.stringify(data);
    document.body.appendChild(pre);
  }

  function firstPlayer(done) {
    var audio = document.querySelector("audio"), tries = 0;
    if (!audio) { done(null); return; }
    var preload = audio.getAttribute("preload");
    audio.muted = true;  // play it (silently): the clock only moves once frames are decoded
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
    (function wait() {
      // the media pipeline runs in real time, outside the virtual time that --virtual-time-budget
      // makes fly past while the page idles: spin a little each turn so that real time passes
      var spin = 0;
      for (var i = 0; i < 2e7; i++) spin += i;
      if (audio.currentTime <= 0 && !audio.error && tries < 400) { tries += 1; setTimeout(wait, 250); return; }
      audio.pause();
      done({preload: preload, readyState: audio.readyState, error: audio.error ? audio.error.code : null,
            duration: audio.duration, played: audio.currentTime, src: audio.currentSrc.split("/").pop()});
    })();
  }

  function afterMath(callback) {
    if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(callback); else setTimeout(callback, 0);
  }

  window.addEventListener("load", function () {
    afterMath(function () {
      var images = Array.prototype.slice.call(document.querySelectorAll("main img"));
      firstPlayer(function (player) {
        report({
          failed: failed,
          mathjax: !!(window.MathJax && MathJax.Hub),
          formulas: document.querySelectorAll("main .math").length,
          // typeset: MathJax kept the TeX in a script and rendered it beside it
          typeset: Array.prototype.filter.call(document.querySelectorAll("main .math"), function (m) {
            return m.querySelector('script[type^="math/tex"]') && m.querySelector(".mjx-chtml");
          }).length,
          errors: document.querySelectorAll(".mjx-merror, .MathJax_Error").length,
          images: images.length,
          imagesLoaded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
          players: document.querySelectorAll("audio").length,
          player: player
        });
      });
    });
  });
})();
