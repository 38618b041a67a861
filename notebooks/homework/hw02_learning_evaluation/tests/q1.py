OK_FORMAT = True

test = {   'name': 'q1',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _D = delayed_copies(np.array([[1.0, 2.0, 3.0]]), 2)\n'
                                               ">>> assert _D is not None, 'delayed_copies returned None: write its body (replace the ...)'\n"
                                               ">>> assert np.shape(_D) == (4, 2), f'one source of 3 samples and L=2 give a (3 + 2 - 1, 1 * 2) = (4, 2) matrix, got shape {np.shape(_D)}'\n"
                                               ">>> assert np.array_equal(_D, [[1, 0], [2, 1], [3, 2], [0, 3]]), f'column tau is the source delayed by tau samples: expected [[1, 0], [2, 1], [3, 2], "
                                               "[0, 3]], got {np.asarray(_D).tolist()}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _s = np.arange(10.0).reshape(2, 5)\n'
                                               '>>> _D = np.asarray(delayed_copies(_s, 3))\n'
                                               ">>> assert _D.shape == (7, 6), f'two sources of 5 samples and L=3 give shape (7, 6), got {_D.shape}'\n"
                                               ">>> assert _D.dtype == np.float64, f'return float64, got {_D.dtype}'\n"
                                               ">>> assert np.array_equal(_D[:5, 3], _s[1]) and np.array_equal(_D[2:7, 5], _s[1]), 'columns 3, 4, 5 are the second source delayed by 0, 1, 2 samples'\n"
                                               ">>> assert np.shape(delayed_copies(np.arange(4.0), 1)) == (4, 1), 'a 1-D signal is one source'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
