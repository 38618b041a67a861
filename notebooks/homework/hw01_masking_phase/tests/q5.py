OK_FORMAT = True

test = {   'name': 'q5',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import spectral as _spectral\n'
                                               '>>> _t = np.arange(6000) / 22050\n'
                                               '>>> _y = (np.sin(2 * np.pi * 440 * _t) + 0.5 * np.sin(2 * np.pi * 1250 * _t) * (_t > 0.1)).astype(np.float32)\n'
                                               '>>> _S = np.abs(_spectral.stft(_y))\n'
                                               '>>> _sc = lambda z: 20 * np.log10(np.linalg.norm(np.abs(_spectral.stft(z)) - _S) / np.linalg.norm(_S))\n'
                                               '>>> _g0, _g30 = (griffin_lim(_S, 0, 6000), griffin_lim(_S, 30, 6000))\n'
                                               ">>> assert _g30 is not None, 'griffin_lim returned None: write its body (replace the ...)'\n"
                                               ">>> assert np.shape(_g30) == (6000,) and np.all(np.isfinite(_g30)), f'expected a finite signal of shape (6000,), got shape {np.shape(_g30)}'\n"
                                               ">>> assert _sc(_g30) < _sc(_g0) - 3, f'30 iterations should bring the magnitude closer to S than the initial guess: spectral convergence "
                                               "{_sc(_g0):.1f} dB -> {_sc(_g30):.1f} dB'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import spectral as _spectral\n'
                                               '>>> _rng = np.random.default_rng(1)\n'
                                               '>>> _S = np.abs(_spectral.stft(_rng.standard_normal(3000).astype(np.float32)))\n'
                                               '>>> _a, _b, _c = (griffin_lim(_S, 3, 3000, seed=1), griffin_lim(_S, 3, 3000, seed=1), griffin_lim(_S, 3, 3000, seed=2))\n'
                                               ">>> assert np.array_equal(_a, _b), 'the same seed must give the same signal'\n"
                                               ">>> assert not np.allclose(_a, _c), 'another seed must give another initial phase, and another signal'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
