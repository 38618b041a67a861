OK_FORMAT = True

test = {   'name': 'q3',
    'points': [0.5, 0.5],
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.tile([1.0, 0.0, 0.0], 4)[None, :]\n'
                                               '>>> _b = beat_spectrum(_S)\n'
                                               ">>> assert _b is not None, 'beat_spectrum returned None: write its body (replace the ...)'\n"
                                               '>>> _b = np.asarray(_b)\n'
                                               ">>> assert _b.shape == (12,), f'one value per lag: shape (12,), got {_b.shape}'\n"
                                               ">>> assert np.isclose(_b[0], 1), 'normalise so that b[0] = 1'\n"
                                               ">>> assert np.allclose(_b[[3, 6, 9]], 1) and np.allclose(_b[[1, 2, 4, 5]], 0), 'a pulse every 3 frames repeats at lags 3, 6, 9'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': ">>> import numpy as np\n>>> assert np.allclose(beat_spectrum(np.zeros((4, 6))), 0), 'a silent spectrogram gives all zeros'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
