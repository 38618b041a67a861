OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _r = sdr_sir_sar(np.array([2.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))\n'
                                               ">>> assert _r is not None, 'sdr_sir_sar returned None: write its body (replace the ...)'\n"
                                               ">>> assert len(_r) == 3, f'return three numbers (sdr, sir, sar), got {_r!r}'\n"
                                               ">>> assert np.allclose(_r, [10 * np.log10(2), 10 * np.log10(4), 10 * np.log10(5)], atol=1e-09), f'for these parts SDR = 10 log10(4 / 2), SIR = 10 "
                                               "log10(4 / 1), SAR = 10 log10(5 / 1): expected [3.01, 6.02, 6.99], got {np.round(np.asarray(_r, dtype=float), 2).tolist()}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _r = sdr_sir_sar(np.array([1.0, 1.0]), np.array([0.1, 0.0]), np.array([0.0, 0.1]))\n'
                                               ">>> assert all((isinstance(_v, float) for _v in _r)), f'return Python floats, got {[type(_v).__name__ for _v in _r]}'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
