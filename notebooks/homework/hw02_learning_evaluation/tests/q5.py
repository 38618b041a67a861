OK_FORMAT = True

test = {   'name': 'q5',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> _s = np.array([1.0, -2.0, 0.5])\n'
                                               '>>> _b = best_gain(_s, 2 * _s)\n'
                                               ">>> assert _b is not None, 'best_gain returned None: write its body (replace the ...)'\n"
                                               ">>> assert abs(_b - 0.5) < 1e-12, f'an estimate twice as loud as the reference needs the gain 0.5, got {_b}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _rng = np.random.default_rng(5)\n'
                                               '>>> _s = _rng.standard_normal(400)\n'
                                               '>>> _x = 0.3 * _s + 0.2 * _rng.standard_normal(400)\n'
                                               '>>> _snr = lambda g: 10 * np.log10(np.sum(_s ** 2) / np.sum((_s - g * _x) ** 2))\n'
                                               '>>> _b = best_gain(_s, _x)\n'
                                               ">>> assert _snr(_b) >= max(_snr(_b - 0.05), _snr(_b + 0.05)), f'the SNR at your gain {_b:.3f} must be at least the SNR at gains a little above and "
                                               "below it'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
