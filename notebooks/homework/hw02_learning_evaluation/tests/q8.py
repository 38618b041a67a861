OK_FORMAT = True

test = {   'name': 'q8',
    'points': 4,
    'suites': [   {   'cases': [   {   'code': '>>> import os\n'
                                               '>>> from course_utils import results as _results\n'
                                               ">>> assert os.path.isfile('hw02_results.json'), 'there is no hw02_results.json beside this notebook: run the two cells of section 8 (they train and "
                                               "write it), and hand it in with the notebook'\n"
                                               ">>> _res = _results.load_results('hw02_results.json', max_bytes=256 * 1024, assignment='hw02_learning_evaluation')\n"
                                               ">>> assert _res['separator'] is not None, 'the results file holds no model: save it with results.save_results(..., separator=...)'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import data as _data\n'
                                               '>>> from course_utils import results as _results\n'
                                               ">>> _res = _results.load_results('hw02_results.json', max_bytes=256 * 1024)\n"
                                               ">>> _names = [t.name for t in _data.load_dataset('bundled', split='test', verify=False)]\n"
                                               '>>> assert sorted(_res[\'scores\']) == _names, f"report a score for each test song {_names}, got {sorted(_res[\'scores\'])}"\n'
                                               '>>> assert np.median(list(_res[\'scores\'].values())) >= 0, f"the median test SDR of your model is {np.median(list(_res[\'scores\'].values())):.2f} '
                                               'dB, below 0 dB: did training run to the end?"\n'
                                               ">>> _v = _res['info'].get('valid_sdr', {})\n"
                                               '>>> assert _res[\'info\'].get(\'loss\') in (\'L1\', \'compressed\') and set(_v) == {\'L1\', \'compressed\'}, "info must say which run you chose '
                                               '(\'loss\') and both runs\' validation SDR (\'valid_sdr\'), as the cell above writes them"\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> from course_utils import data as _data\n'
                                               '>>> from course_utils import results as _results\n'
                                               '>>> from course_utils import training as _training\n'
                                               ">>> _res = _results.load_results('hw02_results.json', max_bytes=256 * 1024)\n"
                                               ">>> _t = _data.load_dataset('bundled', split='test', verify=False)[0]\n"
                                               ">>> _sdr = _training.target_sdr(_t, _res['separator'].separate(_t.mixture)[0])\n"
                                               '>>> assert abs(_sdr - _res[\'scores\'][_t.name]) < 0.05, f"the model in the file scores {_sdr:.2f} dB on {_t.name}, but the file reports '
                                               '{_res[\'scores\'][_t.name]:.2f} dB: report the scores of the model you save"\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
