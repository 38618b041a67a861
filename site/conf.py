"""Sphinx configuration of the course website (``make course`` builds it with tools/build_site.py).

The pages are the notebooks as ``make course`` executed them: MyST-NB reads their outputs and
runs nothing (``nb_execution_mode = "off"``). Everything a page loads is in the site folder,
so it reads offline, from disk or from any static web server.
"""

import os

project = "Music source separation"
author = "The course's authors"
copyright = "the course's authors; code MIT, data CC0 and MIT (see the repository)"

extensions = ["myst_nb"]
nb_execution_mode = "off"                       # executed once, by tools/run_course.py
nb_ipywidgets_js = {}                           # no widget manager from a CDN (tools/build_site.py notes the widgets)
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# MathJax from the site's own _static/lib (the npm-pinned copy the slides use), not a CDN
mathjax_path = os.environ["COURSE_SITE_MATHJAX"]
# MathJax 2 (what the pinned copy is): MyST marks each page's text tex2jax_ignore, so that stray
# dollars stay text, and its formulas class "math", which MathJax must process
myst_update_mathjax = False                     # MyST would add a MathJax 3 configuration
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                               "processClass": "tex2jax_process|mathjax_process|math"}}

html_theme = "sphinx_book_theme"
html_title = "Music source separation"
html_static_path = ["_static"]
html_extra_path = ["_extra"]                    # the slides, copied as they are
html_copy_source = False                        # the executed .ipynb copies would double the site
html_theme_options = {
    "repository_url": os.environ["COURSE_SITE_REPOSITORY"],
    "repository_branch": os.environ["COURSE_SITE_BRANCH"],
    "path_to_docs": "notebooks",
    "use_repository_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
}
exclude_patterns = ["_extra", "_doctrees"]
