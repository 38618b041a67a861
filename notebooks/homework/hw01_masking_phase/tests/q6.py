OK_FORMAT = True

test = {   'name': 'q6',
    'points': 4,
    'suites': [   {   'cases': [   {   'code': '>>> import numpy as np\n'
                                               '>>> import pandas as _pd\n'
                                               '>>> from course_utils import data as _data\n'
                                               ">>> assert isinstance(oracle_table, _pd.DataFrame), f'oracle_table must be a pandas DataFrame, got {type(oracle_table).__name__}'\n"
                                               ">>> assert list(oracle_table.index) == list(_data.STEMS), f'rows must be {list(_data.STEMS)}, got {list(oracle_table.index)}'\n"
                                               ">>> assert list(oracle_table.columns) == ['mixture', 'IBM', 'IRM', 'IRM p=2'], f'columns must be METHODS in order, got {list(oracle_table.columns)}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import numpy as np\n'
                                               '>>> _v = oracle_table.to_numpy(dtype=float)\n'
                                               ">>> assert np.all(np.isfinite(_v)), 'every SDR must be a finite number of dB'\n"
                                               ">>> assert (oracle_table['mixture'] < 0).all(), 'the mixture scores below 0 dB on every source (each is quieter than the rest together)'\n"
                                               ">>> assert (oracle_table['IRM'] > oracle_table['mixture'] + 5).all(), 'the IRM should beat the mixture by more than 5 dB on every source'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
