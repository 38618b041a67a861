OK_FORMAT = True

test = {   'name': 'q4',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import spectral as _spectral\n'
                                               '>>> _rng = np.random.default_rng(0)\n'
                                               '>>> _S = np.abs(_spectral.stft(_rng.standard_normal(3000).astype(np.float32)))\n'
                                               '>>> _X0 = _S * np.exp(2j * np.pi * _rng.random(_S.shape))\n'
                                               '>>> _X1 = griffin_lim_step(_X0, _S, 3000)\n'
                                               ">>> assert _X1 is not None, 'griffin_lim_step returned None: write its body (replace the ...)'\n"
                                               ">>> assert np.shape(_X1) == _S.shape, f'got shape {np.shape(_X1)}, expected the shape of X, {_S.shape}'\n"
                                               ">>> assert np.iscomplexobj(_X1), 'the result must be complex: the target magnitude times a phase factor'\n"
                                               ">>> assert np.allclose(np.abs(_X1), _S, rtol=0.0001, atol=1e-05), 'the magnitude of the result must be the target S'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import spectral as _spectral\n'
                                               '>>> _rng = np.random.default_rng(1)\n'
                                               '>>> _X = _spectral.stft(_rng.standard_normal(4000).astype(np.float32))\n'
                                               '>>> _X1 = np.asarray(griffin_lim_step(_X, np.abs(_X), 4000))\n'
                                               ">>> assert np.linalg.norm(_X1 - _X) <= 0.001 * np.linalg.norm(_X), 'the STFT of a signal with its own magnitude is a fixed point: one step must not "
                                               "change it'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
