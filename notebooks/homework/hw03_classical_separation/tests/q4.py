OK_FORMAT = True

test = {   'name': 'q4',
    'points': [0.5, 0.5],
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.array([[1.0, 2.0, 1.0, 2.0, 9.0, 2.0]])\n'
                                               '>>> _W = repeating_model(_S, 2)\n'
                                               ">>> assert _W is not None, 'repeating_model returned None: write its body (replace the ...)'\n"
                                               '>>> _W = np.asarray(_W)\n'
                                               ">>> assert _W.shape == _S.shape, f'W must have the shape of S, {_S.shape}'\n"
                                               ">>> assert np.allclose(_W, [[1, 2, 1, 2, 1, 2]]), f'the median over periods removes the outlier: expected [[1, 2, 1, 2, 1, 2]], got {_W.tolist()}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.array([[1.0, 2.0, 3.0, 1.0, 2.0]])\n'
                                               '>>> _W = np.asarray(repeating_model(_S, 3))\n'
                                               ">>> assert np.allclose(_W, [[1, 2, 3, 1, 2]]) and (_W <= _S).all(), 'the median skips the missing frames of the last period; W <= S'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
