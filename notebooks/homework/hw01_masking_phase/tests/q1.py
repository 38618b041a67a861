OK_FORMAT = True

test = {   'name': 'q1',
    'points': [0.5, 0.5],
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.array([[[3, 0], [1, 2]], [[1, 5], [1, 0]], [[2, 1], [4, 1]]], dtype=np.complex64)\n'
                                               '>>> _M = binary_mask(_S)\n'
                                               ">>> assert _M is not None, 'binary_mask returned None: write its body (replace the ...)'\n"
                                               ">>> assert np.shape(_M) == (3, 2, 2), f'the mask has shape {np.shape(_M)}; it must have the shape of S, (3, 2, 2)'\n"
                                               '>>> _expected = np.array([[[1, 0], [0, 1]], [[0, 1], [0, 0]], [[0, 0], [1, 0]]])\n'
                                               ">>> assert np.array_equal(_M, _expected), f'for this S the mask should be {_expected.tolist()}, got {np.asarray(_M).tolist()}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _rng = np.random.default_rng(0)\n'
                                               '>>> _S = (_rng.standard_normal((4, 9, 6)) + 1j * _rng.standard_normal((4, 9, 6))).astype(np.complex64)\n'
                                               '>>> _M = binary_mask(_S)\n'
                                               '>>> assert getattr(_M, \'dtype\', None) == np.float32, f"the mask must be float32, got {getattr(_M, \'dtype\', type(_M))}"\n'
                                               ">>> assert np.array_equal(np.asarray(_M).sum(axis=0), np.ones((9, 6))), 'the masks of every bin must add up to 1'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
