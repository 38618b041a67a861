OK_FORMAT = True

test = {   'name': 'q2',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _S = np.zeros((9, 9))\n'
                                               '>>> _S[4, :] = 1.0\n'
                                               '>>> _S[:, 2] = 5.0\n'
                                               '>>> _out = hpss_masks(_S, kernel_size=3)\n'
                                               ">>> assert _out is not None and len(_out) == 2, 'hpss_masks must return the pair (M_H, M_P)'\n"
                                               '>>> _MH, _MP = (np.asarray(x) for x in _out)\n'
                                               ">>> assert _MH.shape == _S.shape, f'the masks must have the shape of S, {_S.shape}'\n"
                                               ">>> assert np.allclose(_MH + _MP, 1), 'the two masks must add up to 1 in every bin'\n"
                                               ">>> assert np.allclose(_MH[4, 5:], 1) and np.allclose(_MP[[1, 2, 6, 7], 2], 1), 'the partial is harmonic, the hit percussive'\n"
                                               ">>> assert np.allclose(_MH[0, 6], 0.5), 'a bin where both filters are 0 goes half to each'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
