"""Self-checks for the notebooks' exercises: call one with your answer, read what it says.

One module per notebook (``checks.masking`` for ``02_masking``, and so on); every check is
also here, at the package level, which is how the notebooks call them
(``checks.check_ibm_owner(...)``). Each check prints a short verdict (what is right, or what
to look at) and returns ``True``/``False``; none raises on a wrong answer, so a notebook with
an unfinished exercise still runs top to bottom.

- :mod:`._common` - :func:`report`, :func:`check_signal`, :func:`check_prediction` (predict, then measure),
  :func:`data_claim` (a finding about the bundled songs: asserted on them, reported on other data)
- :mod:`.introduction` - 00
- :mod:`.stft_and_phase` - 01
- :mod:`.masking` - 02
- :mod:`.phase_reconstruction` - 03
- :mod:`.classical_separation` - 04
- :mod:`.unet_separation` - 05
- :mod:`.evaluation` - 06
- :mod:`.tools_and_state_of_the_art` - 07
- :mod:`.waveform_separation` - 08
"""

from . import (
    _common, classical_separation, evaluation, introduction, masking, phase_reconstruction, stft_and_phase,
    tools_and_state_of_the_art, unet_separation, waveform_separation,
)
from ._common import *  # noqa: F403
from .classical_separation import *  # noqa: F403
from .evaluation import *  # noqa: F403
from .introduction import *  # noqa: F403
from .masking import *  # noqa: F403
from .phase_reconstruction import *  # noqa: F403
from .stft_and_phase import *  # noqa: F403
from .tools_and_state_of_the_art import *  # noqa: F403
from .unet_separation import *  # noqa: F403
from .waveform_separation import *  # noqa: F403

_MODULES = (_common, introduction, stft_and_phase, masking, phase_reconstruction, classical_separation,
            unet_separation, evaluation, tools_and_state_of_the_art, waveform_separation)
__all__ = [name for module in _MODULES for name in module.__all__]
