// What tests/test_slides.py injects into a copy of a built deck before opening it in headless
// Chromium: it records resources that fail to load, waits for reveal.js and MathJax, shows
// every slide in turn, measures it once MathJax has re-rendered it, and writes the results as
// JSON into a <pre> element with id "course-report", which chromium's --dump-dom returns.
(function () {
  var failed = [];
  // capture phase: load errors of <script>, <link> and <img> do not bubble
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window) failed.push(target.src || target.href || target.tagName);
  }, true);

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
    var config = Reveal.getConfig(), total = Reveal.getTotalSlides(), slides = [], index = 0;
    function finish() {
      Reveal.slide(0);
      var audio = Array.prototype.map.call(document.querySelectorAll("audio"), function (a) {
        return {error: a.error ? a.error.code : null, duration: a.duration};
      });
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
          index += 1;
          next();
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
