OK_FORMAT = True

test = {   'name': 'q1',
    'points': [0.5, 0.5],
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.zeros((9, 9))\n'
                                               '>>> _S[4, :] = 1.0\n'
                                               '>>> _S[:, 2] = 5.0\n'
                                               '>>> _out = median_filters(_S, kernel_size=3)\n'
                                               ">>> assert _out is not None and len(_out) == 2, 'median_filters must return the pair (H, P)'\n"
                                               '>>> _H, _P = (np.asarray(x) for x in _out)\n'
                                               ">>> assert _H.shape == _S.shape and _P.shape == _S.shape, f'H and P must have the shape of S, {_S.shape}'\n"
                                               ">>> assert np.allclose(_H[4, 4:], 1) and np.allclose(_H[0, 4:], 0), 'the median along time keeps the partial (row 4) and removes the hit'\n"
                                               ">>> assert np.allclose(_P[:, 6], 0) and np.allclose(_P[1:-1, 2], 5), 'the median along frequency keeps the hit (column 2) and removes the partial'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.arange(12, dtype=float).reshape(3, 4) ** 2\n'
                                               '>>> _H, _P = median_filters(_S, kernel_size=3)\n'
                                               ">>> assert np.allclose(_H[:, 0], _S[:, 0]) and np.allclose(_H[:, -1], _S[:, -1]), 'mirrored edges: the first and last frame keep their value here'\n"
                                               '>>> assert np.allclose(_P[0], _S[0]) and np.allclose(_P[-1], _S[-1])\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
