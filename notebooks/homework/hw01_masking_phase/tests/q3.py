OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import spectral as _spectral\n'
                                               '>>> _rng = np.random.default_rng(0)\n'
                                               '>>> _x = _rng.standard_normal((3, 5000)).astype(np.float32)\n'
                                               '>>> _Y = _spectral.stft(_x.sum(axis=0))\n'
                                               '>>> _est = separate(np.full((3,) + _Y.shape, 1 / 3, dtype=np.float32), _Y, 5000)\n'
                                               ">>> assert _est is not None, 'separate returned None: write its body (replace the ...)'\n"
                                               ">>> assert np.shape(_est) == (3, 5000), f'got shape {np.shape(_est)}; 3 masks and length 5000 give (3, 5000)'\n"
                                               ">>> assert np.allclose(_est, _x.sum(axis=0) / 3, atol=0.0001), 'a mask of 1/3 everywhere must give a third of the mixture'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import spectral as _spectral\n'
                                               '>>> _rng = np.random.default_rng(1)\n'
                                               '>>> _x = _rng.standard_normal((4, 4000)).astype(np.float32)\n'
                                               '>>> _Y = _spectral.stft(_x.sum(axis=0))\n'
                                               '>>> _W = _rng.random((4,) + _Y.shape)\n'
                                               '>>> _est = separate((_W / _W.sum(axis=0)).astype(np.float32), _Y, 4000)\n'
                                               ">>> assert np.allclose(np.sum(_est, axis=0), _x.sum(axis=0), atol=0.0001), 'masks that add up to 1 must give estimates that add up to the mixture'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
