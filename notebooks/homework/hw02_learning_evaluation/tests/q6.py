OK_FORMAT = True

test = {   'name': 'q6',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> import torch\n'
                                               '>>> _loss = compressed_l1(torch.full((1, 1, 2, 3), 0.5), torch.full((1, 2, 3), 4.0), torch.ones(1, 1, 2, 3))\n'
                                               ">>> assert _loss is not None, 'compressed_l1 returned None: write its body (replace the ...)'\n"
                                               '>>> assert torch.is_tensor(_loss) and _loss.ndim == 0, f"return a scalar (0-dimensional) tensor, got {type(_loss).__name__} of shape '
                                               '{tuple(getattr(_loss, \'shape\', ()))}"\n'
                                               ">>> assert abs(float(_loss) - (2 ** 0.5 - 1)) < 1e-05, f'a mask of 0.5 on a mixture of 4 against a target of 1 gives |sqrt(2) - sqrt(1)| = 0.4142 in "
                                               "every bin, got {float(_loss):.4f}'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> import torch\n'
                                               '>>> from course_utils import training as _training\n'
                                               '>>> _g = torch.Generator().manual_seed(0)\n'
                                               '>>> _m, _y, _x = (torch.rand(2, 2, 5, 4, generator=_g), torch.rand(2, 5, 4, generator=_g) * 3, torch.rand(2, 2, 5, 4, generator=_g))\n'
                                               ">>> assert torch.allclose(compressed_l1(_m, _y, _x, power=1.0, eps=0.0), _training.masked_l1(_m, _y, _x), atol=1e-06), 'with power=1 and eps=0 it must "
                                               "equal training.masked_l1'\n"
                                               '>>> _m = torch.rand(1, 1, 4, 4, generator=_g).requires_grad_()\n'
                                               '>>> _y = torch.zeros(1, 4, 4)\n'
                                               '>>> compressed_l1(_m, _y, torch.rand(1, 1, 4, 4, generator=_g), power=0.3).backward()\n'
                                               ">>> assert _m.grad is not None and torch.isfinite(_m.grad).all(), 'gradients must reach the masks and stay finite where the mixture is silent (add eps "
                                               "before the power)'\n",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
