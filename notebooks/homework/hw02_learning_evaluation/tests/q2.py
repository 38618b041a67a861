OK_FORMAT = True

test = {   'name': 'q2',
    'points': 4,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _refs = np.random.default_rng(0).standard_normal((3, 400))\n'
                                               '>>> _parts = decompose(_refs, 2 * _refs[1], 1, L=1)\n'
                                               ">>> assert _parts is not None, 'decompose returned None: write its body (replace the ...)'\n"
                                               '>>> _st, _ei, _ea = (np.asarray(_p) for _p in _parts)\n'
                                               ">>> assert _st.shape == _ei.shape == _ea.shape == (400,), f'with L=1 every part has n + L - 1 = 400 samples, got {_st.shape}, {_ei.shape}, "
                                               "{_ea.shape}'\n"
                                               ">>> assert np.allclose(_st, 2 * _refs[1]), 'an estimate that is exactly 2 * source 1 is all target: s_target = 2 * source 1'\n"
                                               ">>> assert np.allclose(_ei, 0, atol=1e-08) and np.allclose(_ea, 0, atol=1e-08), '... and has no interference and no artifacts'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _rng = np.random.default_rng(1)\n'
                                               '>>> _refs = _rng.standard_normal((3, 500))\n'
                                               '>>> _x = _refs[0] + 0.5 * _refs[2] + 0.1 * _rng.standard_normal(500)\n'
                                               '>>> _st, _ei, _ea = (np.asarray(_p) for _p in decompose(_refs, _x, 0, L=4))\n'
                                               ">>> assert _st.shape == (503,), f'with n=500 and L=4 every part has 503 samples, got {_st.shape}'\n"
                                               ">>> assert np.allclose(_st + _ei + _ea, np.concatenate([_x, np.zeros(3)])), 'the parts must add up to the estimate, zero-padded to n + L - 1 samples'\n"
                                               ">>> assert abs(np.dot(_ea, _st)) < 1e-06 * np.dot(_x, _x) and abs(np.dot(_ea, _ei)) < 1e-06 * np.dot(_x, _x), 'e_artif must be orthogonal to s_target "
                                               "and e_interf'\n"
                                               ">>> assert np.sum(_ei ** 2) > 0.2 * np.sum(_refs[2] ** 2) * 0.25, 'half of source 2 was mixed in: it must show up in e_interf'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
