OK_FORMAT = True

test = {   'name': 'q5',
    'points': [0.5, 0.5],
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])\n'
                                               '>>> _Htrue = np.array([[2.0, 0.5], [1.0, 3.0]])\n'
                                               '>>> _V = _W @ _Htrue\n'
                                               '>>> _H0 = np.ones((2, 2))\n'
                                               '>>> _H = kl_activations(_V, _W, _H0, 200)\n'
                                               ">>> assert _H is not None, 'kl_activations returned None: write its body (replace the ...)'\n"
                                               ">>> assert np.shape(_H) == (2, 2), f'H must have shape (K, n_frames) = (2, 2), got {np.shape(_H)}'\n"
                                               ">>> assert np.allclose(_H0, 1), 'do not modify the H passed in: work on a copy'\n"
                                               ">>> assert np.allclose(_H, _Htrue, atol=0.001), f'with exact data the updates find the true activations {_Htrue.tolist()}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               ">>> assert np.allclose(kl_activations(np.ones((3, 2)), np.ones((3, 1)), np.full((1, 2), 0.5), 0), 0.5), 'n_iter=0 returns the start'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
