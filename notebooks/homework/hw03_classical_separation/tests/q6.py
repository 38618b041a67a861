OK_FORMAT = True

test = {   'name': 'q6',
    'points': [0.5],
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _out = separate_song(track)\n'
                                               ">>> assert _out is not None and len(_out) == 2, 'separate_song must return (estimates, period)'\n"
                                               '>>> _est, _period = _out\n'
                                               '>>> assert set(_est) == {\'drums\', \'vocals\'}, f"estimates must hold \'drums\' and \'vocals\', got {sorted(_est)}"\n'
                                               '>>> assert all((np.shape(v) == track.mixture.shape for v in _est.values())), "each estimate has the mixture\'s length"\n'
                                               ">>> assert 35 <= int(_period) <= np.abs(spectral.stft(track.mixture)).shape[1] // 3, 'the period lies in the search range'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
