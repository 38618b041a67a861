OK_FORMAT = True

test = {   'name': 'q4',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _v = si_sdr(np.array([1.0, 0.0, 2.0, 0.0]), np.array([1.0, 1.0, 2.0, 0.0]))\n'
                                               ">>> assert _v is not None, 'si_sdr returned None: write its body (replace the ...)'\n"
                                               ">>> assert abs(_v - 10 * np.log10(5)) < 1e-09, f'here alpha = 1, the target part is [1, 0, 2, 0] and the rest [0, 1, 0, 0]: SI-SDR = 10 log10(5 / 1) = "
                                               "6.99 dB, got {_v}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _rng = np.random.default_rng(4)\n'
                                               '>>> _s, _x = _rng.standard_normal((2, 300))\n'
                                               '>>> _x = _s + 0.5 * _x\n'
                                               ">>> assert abs(si_sdr(_s, 0.1 * _x) - si_sdr(_s, _x)) < 1e-09 and abs(si_sdr(_s, -7 * _x) - si_sdr(_s, _x)) < 1e-09, 'SI-SDR must not change when the "
                                               "estimate is multiplied by any non-zero gain'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
