OK_FORMAT = True

test = {   'name': 'q2',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.array([[[3.0]], [[1.0]]])\n'
                                               ">>> assert ratio_mask(_S) is not None, 'ratio_mask returned None: write its body (replace the ...)'\n"
                                               '>>> _m1, _m2 = (np.asarray(ratio_mask(_S)).ravel(), np.asarray(ratio_mask(_S, p=2)).ravel())\n'
                                               ">>> assert np.allclose(_m1, [0.75, 0.25], atol=1e-06), f'magnitudes 3 and 1 with p=1 give 3/4 and 1/4, got {_m1}'\n"
                                               ">>> assert np.allclose(_m2, [0.9, 0.1], atol=1e-06), f'magnitudes 3 and 1 with p=2 give 9/10 and 1/10, got {_m2}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _rng = np.random.default_rng(0)\n'
                                               '>>> _S = (_rng.standard_normal((4, 9, 6)) + 1j * _rng.standard_normal((4, 9, 6))).astype(np.complex64)\n'
                                               '>>> _M = ratio_mask(_S)\n'
                                               ">>> assert np.shape(_M) == (4, 9, 6), f'the mask has shape {np.shape(_M)}; it must have the shape of S, (4, 9, 6)'\n"
                                               '>>> assert getattr(_M, \'dtype\', None) == np.float32, f"the mask must be float32, got {getattr(_M, \'dtype\', type(_M))}"\n'
                                               ">>> assert np.allclose(np.asarray(_M).sum(axis=0), 1, atol=1e-05), 'the masks of every bin must add up to 1'\n"
                                               ">>> assert np.asarray(_M).min() >= 0 and np.asarray(_M).max() <= 1, 'mask values must lie in [0, 1]'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
