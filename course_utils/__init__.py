"""course_utils: the helper package of the music source separation course.

One module per concern, mirroring the notebooks:

- :mod:`course_utils.repro` - seeding, device, fast mode, BLAS threads (every notebook's setup cell)
- :mod:`course_utils.audio` - load/save, resample, mono, normalisation (00)
- :mod:`course_utils.data` - the bundled set and the MUSDB18 sample, one API (00)
- :mod:`course_utils.listening` - labelled players that never clip (00)
- :mod:`course_utils.plotting` - waveforms, spectrograms, masks, dominant source (00, 02)
- :mod:`course_utils.spectral` - one STFT convention for NumPy, librosa and torch (01)
- :mod:`course_utils.results` - the results file a homework hands in beside its notebook (hw02)
- :mod:`course_utils.grading` - ``course-grade``, the batch grader (instructors)
- :mod:`course_utils.sandbox` - the isolated, pre-imported children the grader runs notebooks in

Modules are imported on demand (``from course_utils import audio``) so that importing the
package stays fast.
"""

__version__ = "0.1.0"
