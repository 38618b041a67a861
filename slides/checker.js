// What tests/test_slides.py injects into a copy of a built deck before opening it in headless
// Chromium: it records resources that fail to load, waits for reveal.js and MathJax, shows
// every slide in turn, measures it once MathJax has re-rendered it and its audio players once
// they have read their audio, and writes the results as JSON into a <pre> element with id
// "course-report", which chromium's --dump-dom returns.
(function () {
  var failed = [];
  // capture phase: load errors of <script>, <link> and <img> do not bubble
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (!target || target === window) return;
    var url = target.getAttribute("src") || target.getAttribute("href");
    // reveal.js unloads the slides beyond its view distance by taking the src off their
    // players' <source> elements; one still loading then reports an error with no src left
    // (seen under load): not a resource that failed. Players are checked on their own slide.
    if (target.tagName === "SOURCE" && !url) return;
    failed.push(url ? url.slice(0, 100) : target.tagName);
  }, true);

  function players(slide, done) {
    // the shown slide's players once each has read its audio or failed (at most 30 s)
    var list = Array.prototype.slice.call(slide.querySelectorAll("audio")), tries = 0;
    (function wait() {
      var loading = list.filter(function (a) { return a.readyState < 1 && !a.error; });
      if (loading.length && tries < 120) { tries += 1; setTimeout(wait, 250); return; }
      done(list.map(function (a) {
        return {error: a.error ? a.error.code : null, duration: a.duration};
      }));
    })();
  }

  function afterMath(callback) {
    if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(callback); else callback();
  }

  function report(data) {
    var pre = document.createElement("pre");
    pre.id = "course-report";
    pre.textContent = JSON.stringify(data);
    document.body.appendChild(pre);
  }

  function visitSlides() {
    var config = Reveal.getConfig(), total = Reveal.getTotalSlides(), slides = [], audio = [], index = 0;
    function finish() {
      Reveal.slide(0);
      report({width: config.width, height: config.height, total: total, slides: slides,
              failed: failed, audio: audio});
    }
    function next() {
      if (index >= total) { finish(); return; }
      Reveal.slide(index);
      afterMath(function () {
        // MathJax re-renders a slide when it is shown, in steps: wait until its size settles
        var slide = Reveal.getCurrentSlide(), last = -1, tries = 0;
        (function settle() {
          var height = slide.scrollHeight;
          if (height !== last && tries < 20) { last = height; tries += 1; setTimeout(settle, 250); return; }
          slides.push({index: index, height: height, width: slide.scrollWidth});
          players(slide, function (seen) {
            audio.push.apply(audio, seen);
            index += 1;
            next();
          });
        })();
      });
    }
    next();
  }

  window.addEventListener("load", function () {
    function start() {
      if (window.MathJax && MathJax.Hub) {
        MathJax.Hub.Register.StartupHook("End", function () { afterMath(visitSlides); });
      } else {
        visitSlides();
      }
    }
    if (Reveal.isReady()) start(); else Reveal.on("ready", start);
  });
})();
