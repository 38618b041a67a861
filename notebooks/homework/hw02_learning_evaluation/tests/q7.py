OK_FORMAT = True

test = {   'name': 'q7',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> import pandas as _pd\n'
                                               '>>> from course_utils import data as _data\n'
                                               ">>> _tracks = _data.load_dataset('bundled', split='test', verify=False)[:2]\n"
                                               ">>> _table = score_methods({'mixture': lambda t: t.mixture, 'half the mixture': lambda t: 0.5 * t.mixture}, _tracks, duration=2.0)\n"
                                               ">>> assert isinstance(_table, _pd.DataFrame), f'return a pandas DataFrame, got {type(_table).__name__}'\n"
                                               '>>> assert list(_table.index) == [t.name for t in _tracks] and _table.index.name == \'song\', f"rows: the tracks\' names, index name \'song\'; got '
                                               '{list(_table.index)} named {_table.index.name!r}"\n'
                                               '>>> assert list(_table.columns) == [\'mixture\', \'half the mixture\'], f"columns: the methods\' names in order, got {list(_table.columns)}"\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> from course_utils import data as _data\n'
                                               ">>> _tracks = _data.load_dataset('bundled', split='test', verify=False)[:2]\n"
                                               ">>> _v = score_methods({'mixture': lambda t: t.mixture, 'half the mixture': lambda t: 0.5 * t.mixture}, _tracks, duration=2.0).to_numpy(dtype=float)\n"
                                               '>>> assert np.all(np.isfinite(_v)) and np.all(_v < 0), f"the mixture as the vocals\' estimate scores below 0 dB, got {np.round(_v, 2).tolist()}"\n'
                                               '>>> assert np.allclose(_v[:, 0], _v[:, 1], atol=1e-06), "a gain does not change BSS Eval\'s SDR: both columns must be equal"\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
