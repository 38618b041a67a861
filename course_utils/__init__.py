"""course_utils: the helper package of the music source separation course.

One module per concern, mirroring the notebooks (the number says where each is taught):

- :mod:`course_utils.repro` - seeding, device, fast mode, BLAS threads (every notebook's setup cell)
- :mod:`course_utils.project` - where the course lives, and the setup cell itself
- :mod:`course_utils.audio` - validation, load/save, resample, mono, normalisation (00)
- :mod:`course_utils.data` - the bundled set and the MUSDB18 sample, one API (00)
- :mod:`course_utils.mixing` - the bundled set's stereo mix: pan and room, rendered at load time (00)
- :mod:`course_utils.listening` - labelled players that never clip (00)
- :mod:`course_utils.plotting` - waveforms, spectrograms, masks, dominant source (00, 02)
- :mod:`course_utils.spectral` - one STFT convention for NumPy, librosa and torch (01)
- :mod:`course_utils.masks` - time-frequency masks and the oracle masks (02), the multichannel Wiener filter (05)
- :mod:`course_utils.spatial` - a stereo mix's pan index and phase differences, pan masks (02)
- :mod:`course_utils.methods` - every separation method as ``method(track) -> {stem: estimate}`` (02-07)
- :mod:`course_utils.phase` - copying phase and Griffin-Lim (03)
- :mod:`course_utils.classical` - HPSS, REPET, REPET-SIM, NMF (04)
- :mod:`course_utils.scores` - score-informed NMF with the bundled songs' MIDI (04)
- :mod:`course_utils.models` - the U-Net and the Separator around it (05)
- :mod:`course_utils.training` - the remixing dataset and the training loop (05)
- :mod:`course_utils.waveform` - a waveform model (a tiny Demucs) and its Separator (08)
- :mod:`course_utils.metrics` - SDR/SIR/SAR (BSS Eval), SI-SDR, SNR; ``evaluate``/``summarise``, the one scoring path (06)
- :mod:`course_utils.mushra` - a MUSHRA-style listening test: blind stimuli, rating widgets, ratings against the metrics (06)
- :mod:`course_utils._bsseval` - the BSS Eval engine behind ``metrics`` (private: FFT correlations, block-Toeplitz solve)
- :mod:`course_utils.state_of_the_art` - published MUSDB18 results, pretrained models in chunks (07)
- :mod:`course_utils.leaderboard` - every method on the same songs with the same metrics (07)
- :mod:`course_utils.checks` - the notebooks' self-checks, one module per notebook
- :mod:`course_utils.slides` - tables and figure style for the lecture slides
- :mod:`course_utils.results` - the results file a homework hands in beside its notebook (hw02)
- :mod:`course_utils.grading` - ``course-grade``, the batch grader (instructors)
- :mod:`course_utils.capstone` - the capstone's contract, its grading on hidden songs, the class leaderboard
- :mod:`course_utils.execution` - the one way the course runs a notebook headless (make course, tests)
- :mod:`course_utils.sandbox` - the isolated, pre-imported children the grader runs notebooks in

Modules are imported on demand (``from course_utils import audio``) so that importing the
package stays fast.
"""

__version__ = "0.1.0"
